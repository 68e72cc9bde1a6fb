"""Liveness, readiness and metrics."""

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from projections import queries, status
from services.api import answers
from services.api.deps import RuntimeDep
from services.runtime import Runtime
from workflows.connect import temporal_reachable

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=answers.Health)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=answers.Readiness,
    responses={503: {"model": answers.Readiness, "description": "Not ready"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database answers, no projection is stalled (`stalled` names those that
    are), and Temporal answers when one is configured. 503 if not."""
    stalled = await anyio.to_thread.run_sync(stalled_projections, runtime)
    checks = {"database": stalled is not None, "projections": stalled == []}
    if runtime.settings.temporal_address:
        checks["temporal"] = await temporal_reachable(runtime.settings.temporal_address)
    ready = all(checks.values())
    return JSONResponse(
        {"ready": ready, "checks": checks, "stalled": stalled or []},
        status_code=200 if ready else 503,
    )


def stalled_projections(runtime: Runtime) -> list[str] | None:
    """The stalled projections' names; None if the database does not answer."""
    try:
        with runtime.pool.connection(timeout=2) as connection:
            return list(status.stalls(connection))
    except Exception:
        return None


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(runtime: RuntimeDep) -> str:
    """Prometheus text format: how far the event store has got, how far each
    projection is behind it, and whether it is stalled."""
    return await anyio.to_thread.run_sync(prometheus_text, runtime)


def prometheus_text(runtime: Runtime) -> str:
    with runtime.pool.connection(timeout=2) as connection:
        head = queries.head_position(connection)
        positions = queries.projection_positions(connection)
        stalled = status.stalls(connection)
    lines = [
        "# HELP mentoring_events_recorded The notification id of the last recorded event.",
        "# TYPE mentoring_events_recorded gauge",
        f"mentoring_events_recorded {head}",
        "# HELP mentoring_projection_position The last event each projection has applied.",
        "# TYPE mentoring_projection_position gauge",
        *(
            f'mentoring_projection_position{{projection="{name}"}} {position}'
            for name, position in sorted(positions.items())
        ),
        "# HELP mentoring_projection_lag_events Events recorded but not yet projected.",
        "# TYPE mentoring_projection_lag_events gauge",
        *(
            f'mentoring_projection_lag_events{{projection="{name}"}} {max(head - position, 0)}'
            for name, position in sorted(positions.items())
        ),
        "# HELP mentoring_projection_stalled 1 while a projection cannot apply an event.",
        "# TYPE mentoring_projection_stalled gauge",
        *(
            f'mentoring_projection_stalled{{projection="{name}"}} {int(name in stalled)}'
            for name in sorted(positions)
        ),
    ]
    return "\n".join(lines) + "\n"
