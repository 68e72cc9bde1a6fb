"""Liveness, readiness and metrics."""

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from projections import queries
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
    """The database answers, and Temporal when one is configured. 503 if not."""
    checks = {"database": await anyio.to_thread.run_sync(database_ok, runtime)}
    if runtime.settings.temporal_address:
        checks["temporal"] = await temporal_reachable(runtime.settings.temporal_address)
    ready = all(checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def database_ok(runtime: Runtime) -> bool:
    try:
        with runtime.pool.connection(timeout=2) as connection:
            connection.execute("SELECT 1")
    except Exception:
        return False
    return True


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(runtime: RuntimeDep) -> str:
    """Prometheus text format: how far the event store has got, and how far each
    projection is behind it."""
    return await anyio.to_thread.run_sync(prometheus_text, runtime)


def prometheus_text(runtime: Runtime) -> str:
    with runtime.pool.connection(timeout=2) as connection:
        head = queries.head_position(connection)
        positions = queries.projection_positions(connection)
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
    ]
    return "\n".join(lines) + "\n"
