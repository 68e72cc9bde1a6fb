"""Reports from the projections in the `reporting` schema (API.md "Reports").

Each answers JSON, or CSV with `Accept: text/csv` (services.api.csv_export, which
neutralises cells a spreadsheet would run as formulas). A report waits (up to a
few seconds) until the projections have caught up with the event store, so a
report read right after a command reflects it; if they have not, it answers 503
naming the projections behind (at once when one of them is stalled). Lists that
grow are paged: the next page's cursor is in the `Next-Cursor` header.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime

from domain.errors import InvalidValue
from projections import access_log, queries
from projections.reading import Page
from services import reports
from services.access import Action, sees_sealed
from services.api import answers
from services.api.csv_export import csv_response
from services.api.deps import RuntimeDep, require
from services.api.problems import AUTHENTICATED, BEHIND, ONE_RECORD
from services.auth import Principal
from services.read_side import caught_up
from services.reports import report_scope
from services.runtime import Runtime

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=AUTHENTICATED | BEHIND)

# Aggregates: no person can be singled out (equity suppresses small counts).
AggregateReader = Annotated[Principal, Depends(require(Action.READ_AGGREGATE_REPORTS))]
CaseworkReader = Annotated[Principal, Depends(require(Action.READ_CASEWORK_REPORTS))]
AuditReader = Annotated[Principal, Depends(require(Action.READ_AUDIT_TRAIL))]
AccessLogReader = Annotated[Principal, Depends(require(Action.READ_ACCESS_LOG))]

Limit = Annotated[int, Query(ge=1, le=1000)]

# With `Accept: text/csv` a report answers CSV, one row per item, instead of JSON.
_AS_CSV = {"text/csv": {"schema": {"type": "string"}}}
_NEXT_CURSOR = {
    "description": "pass as `cursor` for the next page; absent on the last",
    "schema": {"type": "string"},
}
CSV: dict[int | str, dict[str, Any]] = {200: {"content": _AS_CSV}}
PAGED: dict[int | str, dict[str, Any]] = {
    200: {"content": _AS_CSV, "headers": {"Next-Cursor": _NEXT_CURSOR}}
}


def _wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def _answer(
    request: Request, rows: list[dict[str, Any]], next_cursor: str | None = None, body: Any = None
) -> Response:
    if _wants_csv(request):
        response: Response = csv_response(rows)
    else:
        response = JSONResponse(rows if body is None else body)
    if next_cursor:
        response.headers["Next-Cursor"] = next_cursor
    return response


def _paged(
    request: Request, runtime: Runtime, read: Callable[[psycopg.Connection[Any]], Page]
) -> Response:
    """One page of a list report; a cursor or limit it cannot use is bad input."""
    with caught_up(runtime.pool) as connection:
        try:
            page = read(connection)
        except ValueError as error:
            raise InvalidValue(str(error)) from None
    return _answer(request, page["items"], page["next_cursor"])


@router.get("/stalled", response_model=list[answers.StalledPair], responses=PAGED | ONE_RECORD)
def stalled(
    request: Request,
    principal: CaseworkReader,
    runtime: RuntimeDep,
    scheme_id: UUID | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> Response:
    """Open stalls, longest first: the list coordinators work from."""
    scope = report_scope(principal, scheme_id)
    return _paged(
        request,
        runtime,
        lambda connection: queries.stalled_pairs(
            connection, scheme_id=scope, limit=limit, cursor=cursor
        ),
    )


@router.get("/evaluation", response_model=answers.Evaluation, responses=CSV | ONE_RECORD)
def evaluation(
    request: Request,
    principal: AggregateReader,
    runtime: RuntimeDep,
    scheme_id: UUID,
    cohort: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Named metrics (rates 0..1) with numerator and denominator, survey results and
    the scheme's SMART objectives, target against actual."""
    report_scope(principal, scheme_id)
    report = reports.evaluation(runtime.pool, scheme_id, cohort)
    return _answer(request, reports.evaluation_rows(report), body=report)


@router.get(
    "/mentor-load",
    response_model=list[answers.MentorLoad],
    responses=PAGED | ONE_RECORD,
    summary="Each mentor's capacity, current mentees and invitations",
)
def mentor_load(
    request: Request,
    principal: CaseworkReader,
    runtime: RuntimeDep,
    scheme_id: UUID | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> Response:
    scope = report_scope(principal, scheme_id)
    return _paged(
        request,
        runtime,
        lambda connection: queries.mentor_load(
            connection, scheme_id=scope, limit=limit, cursor=cursor
        ),
    )


@router.get("/equity", response_model=list[answers.EquityRate], responses=CSV | ONE_RECORD)
def equity(
    request: Request, principal: AggregateReader, runtime: RuntimeDep, scheme_id: UUID
) -> Response:
    """Uptake, match, met-mentor and no-blame-end rates by demographic group; counts
    under 5 are suppressed."""
    report_scope(principal, scheme_id)
    rows = reports.equity(runtime.pool, scheme_id)
    return _answer(request, rows)


@router.get("/counts", response_model=answers.Counts, responses=CSV | ONE_RECORD)
def counts(
    request: Request,
    principal: AggregateReader,
    runtime: RuntimeDep,
    scheme_id: UUID,
    as_of: AwareDatetime | None = None,
) -> Response:
    """Relationships per state as they stood at `as_of` (default: now)."""
    report_scope(principal, scheme_id)
    moment = as_of or datetime.now().astimezone()
    with caught_up(runtime.pool) as connection:
        report = queries.counts_as_of(connection, scheme_id, moment)
    rows = [{"state": state, "count": n} for state, n in report["counts"].items()]
    return _answer(request, rows, body=report)


@router.get("/audit", response_model=list[answers.AuditEntry], responses=PAGED)
def audit(
    request: Request,
    principal: AuditReader,
    runtime: RuntimeDep,
    aggregate_id: UUID | None = None,
    since: AwareDatetime | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> Response:
    """Every event: when, who, what (never meeting content). Sealed fields to auditors."""
    return _paged(
        request,
        runtime,
        lambda connection: queries.audit_entries(
            connection,
            aggregate_id=aggregate_id,
            since=since,
            limit=limit,
            cursor=cursor,
            include_sealed=sees_sealed(principal),
        ),
    )


@router.get("/audit/verify", response_model=answers.AuditCheck)
def verify(principal: AuditReader, runtime: RuntimeDep) -> dict[str, Any]:
    """Check the audit log's hash chain and that it is complete up to the head of the
    event store: `{ok, rows, complete, lag, first_bad_row}`. Waits as other reports
    do for the audit projection, then answers even if it is still behind."""
    return reports.verify_audit(runtime.pool)


@router.get("/access-log", response_model=list[answers.Access], responses=PAGED)
def accesses(
    request: Request,
    principal: AccessLogReader,
    runtime: RuntimeDep,
    record_id: UUID | None = None,
    actor_id: Annotated[str | None, Query(max_length=100)] = None,
    since: AwareDatetime | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> Response:
    """Who read which personal record, when (never what it said). Auditors only."""
    return _paged(
        request,
        runtime,
        lambda connection: access_log.access_log(
            connection,
            record_id=record_id,
            actor_id=actor_id,
            since=since,
            limit=limit,
            cursor=cursor,
        ),
    )
