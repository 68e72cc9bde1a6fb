"""The report and governance pages of a scheme, for staff signed in.

- `GET /schemes/{id}/reports?cohort=`: the evaluation of a cohort (no `cohort`:
  the latest; empty: the whole scheme) as charts and tables beside the previous
  cohort's, and the equity report with its suppression;
  `GET /schemes/{id}/reports/evaluation.csv?cohort=` and `.../equity.csv`: the
  same CSV as the API's reports (no `cohort`: the whole scheme, as the API).
- `GET /schemes/{id}/governance`: the scheme's governance roles over time, and
  for those who may read the audit trail, the chain's verification.
- `GET /schemes/{id}/audit?pair=&cursor=`: the audit trail of the scheme or of
  one of its pairs; `GET /schemes/{id}/access-log?record=&cursor=`: who read
  which record.

Each applies the API's access policy for the same report (services.access,
services.reports.report_scope) and is refused as the API refuses: 403 for a role
that may never, 404 for a scheme or pair out of the visitor's reach.
"""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidValue
from domain.scheme import Scheme
from services import reports
from services.access import Action, Forbidden, allowed, check_allowed, sees_sealed
from services.api.csv_export import csv_response
from services.auth import Principal
from services.errors import NotFound, ProjectionsBehind
from services.runtime import Runtime
from services.views import scheme_view
from services.web import report_view
from services.web.pages import render
from services.web.sessions import SignedIn
from services.web.visitor import runtime_of

router = APIRouter(include_in_schema=False)


REFUSALS = (Forbidden, NotFound, InvalidValue, ProjectionsBehind)


async def _answer(request: Request, read: Callable[[], dict[str, Any]], template: str) -> Response:
    """The page `template` with what `read` gives (its `status_code`, if any, is the
    answer's), or the page saying why it cannot be shown (`_refusal`)."""
    try:
        context = await run_in_threadpool(read)
    except REFUSALS as error:
        return await _refusal(request, error)
    status = context.pop("status_code", 200)
    return await render(request, template, context, status_code=status)


async def _csv(request: Request, read: Callable[[], list[dict[str, Any]]]) -> Response:
    """The rows `read` gives as CSV (services.api.csv_export, as the API's), or the
    page saying why they cannot be had."""
    try:
        rows = await run_in_threadpool(read)
    except REFUSALS as error:
        return await _refusal(request, error)
    return csv_response(rows)


async def _refusal(request: Request, error: Exception) -> Response:
    """Why a page cannot be shown, with the API's status for the same refusal: 403,
    404, 422 (a cursor it cannot use), 503 (the reports are behind)."""
    if isinstance(error, Forbidden):
        return await _cannot_open(request, 403, "You do not have access to this page.")
    if isinstance(error, NotFound):
        return await _cannot_open(request, 404, "There is no such page.")
    if isinstance(error, InvalidValue):
        return await _cannot_open(request, 422, f"This page cannot be shown: {error}.")
    assert isinstance(error, ProjectionsBehind)
    response = await _cannot_open(
        request, 503, "The reports are catching up with the latest changes. Try again shortly."
    )
    response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _cannot_open(request: Request, status: int, reason: str) -> Response:
    return await render(request, "reports/cannot_open.html", {"reason": reason}, status)


def _scheme(runtime: Runtime, principal: Principal, scheme_id: UUID, action: Action) -> Scheme:
    """The scheme, once the visitor may take `action` on it (Forbidden, NotFound)."""
    check_allowed(principal, action)
    reports.report_scope(principal, scheme_id)
    return runtime.mentoring.get_scheme(scheme_id)


def _cohorts(scheme: Scheme, cohort: str | None) -> tuple[str | None, str | None]:
    """The cohort to show (None: the whole scheme) and the one before it: no
    `cohort` means the latest of the scheme's, an empty one the whole scheme."""
    names = [str(c["name"]) for c in scheme.cohorts]
    if cohort is None:
        cohort = names[-1] if names else ""
    if not cohort:
        return None, None
    at = names.index(cohort) if cohort in names else -1
    return cohort, names[at - 1] if at > 0 else None


def _read_reports(
    runtime: Runtime, principal: Principal, scheme_id: UUID, cohort: str | None
) -> dict[str, Any]:
    scheme = _scheme(runtime, principal, scheme_id, Action.READ_AGGREGATE_REPORTS)
    shown, before = _cohorts(scheme, cohort)
    this = reports.evaluation(runtime.pool, scheme_id, shown)
    previous = reports.evaluation(runtime.pool, scheme_id, before) if before else None
    cohorts = report_view.Cohorts(shown or "all cohorts", before)
    return {
        "scheme": scheme_view(scheme),
        "cohort": shown,
        "cohorts": cohorts,
        "rates": report_view.rates(cohorts, this, previous),
        "days": report_view.days(cohorts, this, previous),
        "survey": report_view.survey(cohorts, this, previous, scheme.survey),
        "survey_by_met": report_view.survey_by_met(this, scheme.survey),
        "objectives": report_view.objectives(this["objectives"]),
        "equity": report_view.equity(reports.equity(runtime.pool, scheme_id)),
    }


@router.get("/schemes/{scheme_id}/reports")
async def reports_page(
    request: Request, principal: SignedIn, scheme_id: UUID, cohort: str | None = None
) -> Response:
    runtime = runtime_of(request)
    return await _answer(
        request,
        lambda: _read_reports(runtime, principal, scheme_id, cohort),
        "reports/reports.html",
    )


@router.get("/schemes/{scheme_id}/reports/evaluation.csv")
async def evaluation_csv(
    request: Request, principal: SignedIn, scheme_id: UUID, cohort: str | None = None
) -> Response:
    """The API's `/v1/reports/evaluation` CSV for the same scheme and cohort."""
    runtime = runtime_of(request)

    def read() -> list[dict[str, Any]]:
        _scheme(runtime, principal, scheme_id, Action.READ_AGGREGATE_REPORTS)
        return reports.evaluation_rows(reports.evaluation(runtime.pool, scheme_id, cohort))

    return await _csv(request, read)


@router.get("/schemes/{scheme_id}/reports/equity.csv")
async def equity_csv(request: Request, principal: SignedIn, scheme_id: UUID) -> Response:
    """The API's `/v1/reports/equity` CSV for the same scheme."""
    runtime = runtime_of(request)

    def read() -> list[dict[str, Any]]:
        _scheme(runtime, principal, scheme_id, Action.READ_AGGREGATE_REPORTS)
        return reports.equity(runtime.pool, scheme_id)

    return await _csv(request, read)


def _read_governance(runtime: Runtime, principal: Principal, scheme_id: UUID) -> dict[str, Any]:
    scheme = _scheme(runtime, principal, scheme_id, Action.READ_AGGREGATE_REPORTS)
    audits = allowed(principal, Action.READ_AUDIT_TRAIL)
    return {
        "scheme": scheme_view(scheme),
        "audits": audits,
        "reads_access_log": allowed(principal, Action.READ_ACCESS_LOG),
        "verification": reports.verify_audit(runtime.pool) if audits else None,
    }


@router.get("/schemes/{scheme_id}/governance")
async def governance_page(request: Request, principal: SignedIn, scheme_id: UUID) -> Response:
    runtime = runtime_of(request)
    return await _answer(
        request,
        lambda: _read_governance(runtime, principal, scheme_id),
        "reports/governance.html",
    )


def _record_id(text: str | None) -> UUID | None:
    """The id typed in a filter; InvalidValue for one that is not an id."""
    if not text or not text.strip():
        return None
    try:
        return UUID(text.strip())
    except ValueError:
        raise InvalidValue("Enter an id like 0b5e7c2a-3f7d-4c1e-9a53-2f0c4d7e8a11") from None


def _read_audit(
    runtime: Runtime,
    principal: Principal,
    scheme_id: UUID,
    pair: str | None,
    cursor: str | None,
) -> dict[str, Any]:
    scheme = _scheme(runtime, principal, scheme_id, Action.READ_AUDIT_TRAIL)
    context: dict[str, Any] = {"scheme": scheme_view(scheme), "pair": pair or ""}
    try:
        pair_id = _record_id(pair)
    except InvalidValue as error:
        return context | {"errors": {"pair": str(error)}, "entries": [], "status_code": 422}
    if pair_id is not None and runtime.mentoring.get_relationship(pair_id).scheme_id != scheme_id:
        raise NotFound("relationship", pair_id)
    page = reports.audit_trail(
        runtime.pool, pair_id or scheme_id, cursor, include_sealed=sees_sealed(principal)
    )
    return context | {
        "pair_id": pair_id,
        "entries": page["items"],
        "next_cursor": page["next_cursor"],
        "sealed_shown": sees_sealed(principal),
        "reads_access_log": allowed(principal, Action.READ_ACCESS_LOG),
    }


@router.get("/schemes/{scheme_id}/audit")
async def audit_page(
    request: Request,
    principal: SignedIn,
    scheme_id: UUID,
    pair: str | None = None,
    cursor: str | None = None,
) -> Response:
    runtime = runtime_of(request)
    return await _answer(
        request,
        lambda: _read_audit(runtime, principal, scheme_id, pair, cursor),
        "reports/audit.html",
    )


def _read_access_log(
    runtime: Runtime,
    principal: Principal,
    scheme_id: UUID,
    record: str | None,
    cursor: str | None,
) -> dict[str, Any]:
    scheme = _scheme(runtime, principal, scheme_id, Action.READ_ACCESS_LOG)
    context: dict[str, Any] = {"scheme": scheme_view(scheme), "record": record or ""}
    try:
        record_id = _record_id(record)
    except InvalidValue as error:
        return context | {"errors": {"record": str(error)}, "accesses": [], "status_code": 422}
    page = reports.accesses(runtime.pool, record_id, cursor)
    return context | {"accesses": page["items"], "next_cursor": page["next_cursor"]}


@router.get("/schemes/{scheme_id}/access-log")
async def access_log_page(
    request: Request,
    principal: SignedIn,
    scheme_id: UUID,
    record: str | None = None,
    cursor: str | None = None,
) -> Response:
    runtime = runtime_of(request)
    return await _answer(
        request,
        lambda: _read_access_log(runtime, principal, scheme_id, record, cursor),
        "reports/access_log.html",
    )
