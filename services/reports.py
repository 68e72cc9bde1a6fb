"""The reports both the API (services.api.routes.reports) and the report pages
(services.web.report_pages) answer: which scheme a caller may report on, and each
report's rows, read once here for both, so a page's CSV is the API's CSV.

Each read waits for the projections as the API's reports do
(services.read_side.caught_up: ProjectionsBehind when they have not caught up).
"""

from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.errors import InvalidValue
from projections import access_log, queries
from projections.reading import Page
from services.access import check_scheme
from services.auth import Principal
from services.errors import NotFound
from services.read_side import caught_up, projections_behind


def report_scope(principal: Principal, scheme_id: UUID | None) -> UUID | None:
    """Coordinators report on their own schemes: one named, or their only one
    (InvalidValue when they have several and name none; NotFound for another
    scheme's). Other roles report on the scheme named, or on all (None)."""
    if principal.role != "coordinator":
        return scheme_id
    if scheme_id is None:
        if len(principal.scheme_ids) != 1:
            raise InvalidValue("scheme_id is required: you coordinate more than one scheme")
        return next(iter(principal.scheme_ids))
    check_scheme(principal, scheme_id, "scheme", scheme_id)
    return scheme_id


def evaluation(pool: ConnectionPool, scheme_id: UUID, cohort: str | None) -> dict[str, Any]:
    """The evaluation of a scheme's cohort (the whole scheme when `cohort` is None),
    as projections.queries.evaluation gives it; NotFound for a scheme or cohort with
    none."""
    with caught_up(pool) as connection:
        report = queries.evaluation(connection, scheme_id, cohort)
    if report is None:
        raise NotFound("evaluation for scheme and cohort", f"{scheme_id} {cohort or ''}".strip())
    return report


def evaluation_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The evaluation as one row per item, as its CSV has them: the metrics, then the
    objectives as rows named `objective:<id>`, with the metric each one measures in
    a column of its own."""
    objectives = [
        {"metric": f"objective:{o['id']}", "value": o["actual"], "objective_metric": o["metric"]}
        | {k: v for k, v in o.items() if k not in ("actual", "id", "metric")}
        for o in report["objectives"]
    ]
    return [*report["metrics"], *objectives]


def equity(pool: ConnectionPool, scheme_id: UUID) -> list[dict[str, Any]]:
    """The equity rates of a scheme by demographic group, small counts suppressed
    (projections.equity)."""
    with caught_up(pool) as connection:
        return queries.equity(connection, scheme_id)


def verify_audit(pool: ConnectionPool) -> dict[str, Any]:
    """The audit log's hash chain checked up to the head of the event store:
    `{ok, rows, complete, lag, first_bad_row}` (projections.queries.verify_audit).
    Waits as other reports do for the audit projection, then answers even if it is
    still behind."""
    with pool.connection() as connection:
        connection.autocommit = True
        projections_behind(connection, ["audit_log"])
        return queries.verify_audit(connection)


def audit_trail(
    pool: ConnectionPool,
    aggregate_id: UUID | None,
    cursor: str | None,
    include_sealed: bool,
    limit: int = 100,
) -> Page:
    """A page of the audit trail of one record (a scheme, a pair; None: of all), in
    the order it happened; sealed fields only with `include_sealed`. InvalidValue
    for a cursor it cannot use."""
    with caught_up(pool) as connection:
        try:
            return queries.audit_entries(
                connection,
                aggregate_id=aggregate_id,
                limit=limit,
                cursor=cursor,
                include_sealed=include_sealed,
            )
        except ValueError as error:
            raise InvalidValue(str(error)) from None


def accesses(
    pool: ConnectionPool, record_id: UUID | None, cursor: str | None, limit: int = 100
) -> Page:
    """A page of the access log (who read which record, when), of one record or of
    all (None), oldest first. InvalidValue for a cursor it cannot use."""
    with caught_up(pool) as connection:
        try:
            return access_log.access_log(
                connection, record_id=record_id, limit=limit, cursor=cursor
            )
        except ValueError as error:
            raise InvalidValue(str(error)) from None
