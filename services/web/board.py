"""The coordinator's board: the schemes a member of staff may see, and each scheme's
dashboard (its relationships per state for a cohort, its rates against the SMART
targets, and the stalled-pairs work queue).

Every board page checks access with services.access exactly as the API does for
the same data: the evaluation and counts as `GET /v1/reports/evaluation` (a
coordinator's other schemes are not found), the work queue as
`GET /v1/reports/stalled` (not for reporters). Mentors and mentees may open none
of them (403). The pair page (services.web.pair_page) and matching
(services.web.matching_page) share `on_the_board`, which answers the refusals as
pages.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from projections import dashboard, queries
from services.access import Action, Forbidden, allowed, check_allowed, check_scheme
from services.auth import Principal
from services.errors import NotFound, ProjectionsBehind
from services.read_side import caught_up
from services.runtime import Runtime
from services.web.pages import render
from services.web.sessions import SignedIn
from services.web.timeline import STALL_REASONS, STATES, how_long
from services.web.visitor import runtime_of

router = APIRouter(include_in_schema=False)

# The rates the dashboard shows, as the evaluation names them, in plain words.
HEADLINE_METRICS = {
    "match_rate": "Match rate",
    "met_mentor_rate": "Met their mentor",
    "median_days_to_match": "Median days to match",
}
# The states counted, in the order of a relationship's life; paused is a flag.
COUNTED = ("requested", "mentor_invited", "matched", "active", "paused", "ended", "rematched")
QUEUE_SORTS = {
    "longest": "Stalled longest",
    "newest": "Stalled most recently",
    "reason": "Reason",
    "escalated": "Escalated first",
}
QUEUE_SHOWN = 50  # stalled pairs per page of the work queue


async def on_the_board(request: Request, build: Callable[[], Awaitable[Response]]) -> Response:
    """The page `build` answers; a refusal answered as a page: a record that is not
    there or not the visitor's to see (404), a role that may not (403), the reports
    still catching up (503)."""
    try:
        return await build()
    except NotFound:
        return await render(request, "board/not_found.html", status_code=404)
    except Forbidden:
        return await render(request, "board/forbidden.html", status_code=403)
    except ProjectionsBehind as error:
        response = await render(request, "board/catching_up.html", status_code=503)
        response.headers["Retry-After"] = str(error.retry_after)
        return response


def staff_scheme(runtime: Runtime, principal: Principal, scheme_id: UUID) -> Any:
    """The scheme, for a role that may read its reports and, for a coordinator, one of
    their own (else NotFound, as the API answers)."""
    check_allowed(principal, Action.READ_AGGREGATE_REPORTS)
    check_scheme(principal, scheme_id, "scheme", scheme_id)
    return runtime.mentoring.get_scheme(scheme_id)


@router.get("/schemes", response_class=HTMLResponse)
async def scheme_list(request: Request, principal: SignedIn) -> Response:
    """The schemes the visitor may see, each linking to its dashboard."""

    async def build() -> Response:
        check_allowed(principal, Action.READ_AGGREGATE_REPORTS)
        runtime = runtime_of(request)
        scope = principal.scheme_ids if principal.role == "coordinator" else None
        found = await run_in_threadpool(_schemes, runtime, scope)
        return await render(request, "board/schemes.html", {"schemes": found})

    return await on_the_board(request, build)


def _schemes(runtime: Runtime, scope: frozenset[UUID] | None) -> list[dict[str, Any]]:
    with caught_up(runtime.pool) as connection:
        return dashboard.schemes(connection, scope)


@dataclass(frozen=True)
class QueueChoice:
    """How the work queue is sorted and filtered; `errors` for values it cannot use."""

    sort: str
    reason: str
    escalated: str
    errors: dict[str, str]

    @classmethod
    def of(cls, sort: str, reason: str, escalated: str) -> "QueueChoice":
        errors = {}
        if reason and reason not in STALL_REASONS:
            errors["reason"] = "Choose a reason from the list"
            reason = ""
        if escalated not in ("", "yes", "no"):
            errors["escalated"] = "Choose whether escalated from the list"
            escalated = ""
        return cls(sort if sort in QUEUE_SORTS else "longest", reason, escalated, errors)

    @property
    def escalated_only(self) -> bool | None:
        """The escalated filter as the work queue takes it (None: either)."""
        return None if not self.escalated else self.escalated == "yes"


@router.get("/schemes/{scheme_id}", response_class=HTMLResponse)
async def scheme_dashboard(
    request: Request,
    scheme_id: UUID,
    principal: SignedIn,
    cohort: str = "",
    sort: str = "longest",
    reason: str = "",
    escalated: str = "",
    page: str = "1",
) -> Response:
    """Counts by state for a cohort, the headline rates against their targets, and the
    stalled pairs (for roles that may read casework), QUEUE_SHOWN a page."""

    async def build() -> Response:
        runtime = runtime_of(request)
        scheme = await run_in_threadpool(staff_scheme, runtime, principal, scheme_id)
        cohorts = [c["name"] for c in scheme.cohorts]
        choice = QueueChoice.of(sort, reason, escalated)
        errors = dict(choice.errors)
        if cohort and cohort not in cohorts:
            errors = {"cohort": "Choose a cohort from the list"} | errors
        chosen = cohort if cohort in cohorts else ""
        # The figures (mostly the database's work) and the queue's names (mostly
        # this process's) are read side by side.
        figures, queue = await asyncio.gather(
            run_in_threadpool(_figures, runtime, scheme_id, chosen or None),
            run_in_threadpool(
                _work_queue, runtime, principal, scheme_id, choice, _page_number(page)
            ),
        )
        context = (
            {
                "scheme": scheme,
                "cohorts": cohorts,
                "cohort": chosen,
                "choice": choice,
                "errors": errors,
                "sorts": QUEUE_SORTS,
                "reasons": STALL_REASONS,
                "states": STATES,
                "counted": COUNTED,
            }
            | figures
            | queue
        )
        return await render(
            request, "board/dashboard.html", context, status_code=422 if errors else 200
        )

    return await on_the_board(request, build)


def _page_number(page: str) -> int:
    """The queue's page asked for; the first for anything but a whole number from 1."""
    return int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1


def _figures(runtime: Runtime, scheme_id: UUID, cohort: str | None) -> dict[str, Any]:
    """The counts by state and the headline rates, once the projections have caught up."""
    with caught_up(runtime.pool) as connection:
        counts = dashboard.state_counts(connection, scheme_id, cohort)
        report = queries.evaluation(connection, scheme_id, cohort)
    return {"counts": counts, "headline": _headline(report)}


def _work_queue(
    runtime: Runtime, principal: Principal, scheme_id: UUID, choice: QueueChoice, page: int
) -> dict[str, Any]:
    """One page of the work queue (the last there is if `page` is beyond it), once
    the projections have caught up, with its mentees' names; none for a role that
    may not read casework."""
    sees_queue = allowed(principal, Action.READ_CASEWORK_REPORTS)
    stalls: list[dict[str, Any]] = []
    kept = stalled = 0
    if sees_queue:
        with caught_up(runtime.pool) as connection:
            for _ in range(2):  # a page beyond the last: the last
                stalls, kept, stalled = dashboard.work_queue(
                    connection,
                    scheme_id,
                    sort=choice.sort,
                    reasons=list(STALL_REASONS),
                    reason=choice.reason or None,
                    escalated=choice.escalated_only,
                    offset=(page - 1) * QUEUE_SHOWN,
                    limit=QUEUE_SHOWN,
                )
                if stalls or page == 1:
                    break
                page = max(1, -(-kept // QUEUE_SHOWN))
    now = datetime.now(UTC)
    return {
        "sees_queue": sees_queue,
        "queue": [_queue_row(runtime, row, now) for row in stalls],
        "queue_total": kept,
        "stalled_total": stalled,
        "page": page,
        "pages": max(1, -(-kept // QUEUE_SHOWN)),
        "first_shown": (page - 1) * QUEUE_SHOWN + 1,
    }


def _queue_row(runtime: Runtime, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    since = datetime.fromisoformat(row["since"])
    try:
        mentee = str(runtime.mentoring.get_mentee(UUID(row["mentee_id"])).name)
    except NotFound:
        mentee = "Unknown mentee"
    return row | {
        "mentee_name": mentee,
        "reason_words": STALL_REASONS.get(row["reason"], row["reason"]),
        "state_words": STATES.get(row["state"], row["state"]),
        "stalled_for": how_long(now - since),
    }


def _headline(report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The headline metrics with the scheme's targets for them, as the evaluation
    report gives them: `{metric, label, value, shown, numerator, denominator,
    targets: [{description, comparison, target, met}]}`."""
    metrics = {
        m["metric"]: m
        for m in (report or {}).get("metrics", [])
        if m["metric"] in HEADLINE_METRICS and m["stage"] is None
    }
    objectives = (report or {}).get("objectives", [])
    headline = []
    for name, label in HEADLINE_METRICS.items():
        metric = metrics.get(name, {})
        value = metric.get("value")
        headline.append(
            {
                "metric": name,
                "label": label,
                "shown": _shown(name, value),
                "numerator": metric.get("numerator"),
                "denominator": metric.get("denominator"),
                "targets": [
                    o | {"target_shown": _shown(name, o["target"])}
                    for o in objectives
                    if o["metric"] == name
                ],
            }
        )
    return headline


def _shown(metric: str, value: float | None) -> str:
    """A metric's value as a person reads it: a rate as a percentage, days as days."""
    if value is None:
        return "No data yet"
    if metric.endswith("_rate"):
        return f"{value * 100:.0f}%"
    return f"{value:.1f} days"


def refusal_message(error: Exception) -> str:
    """A refusal (from the domain, or a concurrent change), as a sentence for the page."""
    text = str(error)
    return text[:1].upper() + text[1:]


def install(app: FastAPI) -> None:
    """The board's pages: the schemes, the dashboards, the pair pages, matching."""
    from services.web import matching_page, pair_page

    app.include_router(router)
    app.include_router(pair_page.router)
    app.include_router(matching_page.router)
