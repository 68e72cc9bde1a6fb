"""Plain-SQL reads of the reporting schema, one function per report of API.md.

Every function takes an open psycopg connection (any row factory; autocommit or
not) and returns plain dicts and lists of JSON-ready values: ids and times as
strings, counts as ints, rates as floats in 0..1. Lists that grow are pages:
`{"items": [...], "next_cursor": str | None}` (an int for `relationships`); pass
`next_cursor` back as `cursor` for the next page. A malformed cursor raises
ValueError (a 422 for the API).

Read-your-writes: call `wait_for_position(conn, saved.position)` with the
position a command returned before reading its report.
"""

import time
import typing
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier, Literal

from domain.vocabulary import State
from projections.audit import verify_chain
from projections.reading import Page, check_limit, decode_cursor, fetch_rows, page
from projections.registry import PROJECTIONS, tracking_table
from projections.schema import SCHEMA

APPLICATION = "mentoring"


# Read-your-writes ----------------------------------------------------------------


def projection_positions(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Each projection's last applied notification id (0 if none or not created)."""
    tables = {tracking_table(name): name for name in PROJECTIONS}
    present = fetch_rows(
        conn,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = ANY(%s)",
        (SCHEMA, list(tables)),
    )
    positions = dict.fromkeys(PROJECTIONS, 0)
    if not present:
        return positions
    query = SQL(" UNION ALL ").join(
        SQL(
            "SELECT {0} AS name, notification_id AS position FROM {1} "
            "WHERE application_name = %(app)s"
        ).format(Literal(tables[row["relname"]]), Identifier(SCHEMA, row["relname"]))
        for row in present
    )
    for row in fetch_rows(conn, query, {"app": APPLICATION}):
        positions[row["name"]] = int(row["position"])
    return positions


def _exists(conn: psycopg.Connection[Any], relation: str) -> bool:
    rows = fetch_rows(conn, "SELECT to_regclass(%s) IS NOT NULL AS present", (relation,))
    return bool(rows[0]["present"])


def head_position(conn: psycopg.Connection[Any]) -> int:
    """The last notification id in the event store (0 if empty)."""
    if not _exists(conn, f"public.{APPLICATION}_events"):
        return 0
    rows = fetch_rows(
        conn,
        SQL("SELECT coalesce(max(notification_id), 0) AS head FROM {0}").format(
            Identifier("public", f"{APPLICATION}_events")
        ),
        (),
    )
    return int(rows[0]["head"])


def wait_for_position(
    conn: psycopg.Connection[Any],
    position: int,
    *,
    timeout: float = 5.0,
    projections: Iterable[str] | None = None,
) -> bool:
    """Block until the projections (default: all) have applied every event up to
    `position` (a notification id a command returned). True when they have, False
    after `timeout` seconds."""
    names = list(PROJECTIONS if projections is None else projections)
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        positions = projection_positions(conn)
        if all(positions[name] >= position for name in names):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, 0.1)


# Reports ---------------------------------------------------------------------------


def stalled_pairs(
    conn: psycopg.Connection[Any],
    *,
    scheme_id: UUID | str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Open stalls, longest first: `{relationship_id, scheme_id, mentee_id, mentor_id,
    state, reason, since, escalated, escalated_at}`."""
    after = decode_cursor(cursor, 2) if cursor else None
    items = fetch_rows(
        conn,
        "SELECT relationship_id, scheme_id, mentee_id, mentor_id, state, reason, since, "
        "escalated, escalated_at FROM reporting.stalled_pairs "
        "WHERE (%(scheme)s::uuid IS NULL OR scheme_id = %(scheme)s::uuid) "
        "AND (%(since)s::timestamptz IS NULL "
        "     OR (since, relationship_id) > (%(since)s::timestamptz, %(id)s::uuid)) "
        "ORDER BY since, relationship_id LIMIT %(limit)s",
        {
            "scheme": scheme_id,
            "since": after[0] if after else None,
            "id": after[1] if after else None,
            "limit": check_limit(limit) + 1,
        },
    )
    return page(items, limit, "since", "relationship_id")


def evaluation(
    conn: psycopg.Connection[Any], scheme_id: UUID | str, cohort: str | None = None
) -> dict[str, Any] | None:
    """The evaluation of a scheme (all cohorts when `cohort` is None) or None if the
    scheme or cohort is unknown. `metrics`: `{metric, stage, audience, numerator,
    denominator, value}` (survey rows have a stage and audience); `objectives`:
    `{id, description, metric, comparison, target, actual, met}`; and
    `survey_by_met_mentor`: the survey rows split by `met_mentor`."""
    params = {"scheme": scheme_id, "cohort": cohort}
    metrics = fetch_rows(
        conn,
        "SELECT metric, stage, audience, numerator, denominator, value "
        "FROM reporting.evaluation WHERE scheme_id = %(scheme)s::uuid "
        "AND cohort IS NOT DISTINCT FROM %(cohort)s::text "
        "ORDER BY ordinal, metric, array_position(ARRAY['baseline', 'midpoint', 'end'], stage), "
        "audience",
        params,
        report=True,
    )
    if not metrics:
        return None
    objectives = fetch_rows(
        conn,
        "SELECT objective_id AS id, description, metric, comparison, target, actual, met "
        "FROM reporting.evaluation_objectives WHERE scheme_id = %(scheme)s::uuid "
        "AND cohort IS NOT DISTINCT FROM %(cohort)s::text ORDER BY ordinal",
        params,
        report=True,
    )
    split = fetch_rows(
        conn,
        "SELECT metric, stage, audience, met_mentor, numerator, denominator, value "
        "FROM reporting.evaluation_survey_by_met_mentor WHERE scheme_id = %(scheme)s::uuid "
        "AND cohort IS NOT DISTINCT FROM %(cohort)s::text "
        "ORDER BY metric, stage, audience, met_mentor DESC",
        params,
        report=True,
    )
    return {
        "scheme_id": str(scheme_id),
        "cohort": cohort,
        "metrics": metrics,
        "objectives": objectives,
        "survey_by_met_mentor": split,
    }


def mentor_load(
    conn: psycopg.Connection[Any],
    *,
    scheme_id: UUID | str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """Mentors with their load, by mentor id: `{mentor_id, scheme_id, grade, specialty,
    institution, capacity, available, trained_on, current_mentees, free_places,
    open_invitations, invitations_accepted, invitations_declined, invitations_lapsed,
    invitations_withdrawn}`."""
    after = decode_cursor(cursor, 1)[0] if cursor else None
    items = fetch_rows(
        conn,
        "SELECT mentor_id, scheme_id, grade, specialty, institution, capacity, available, "
        "trained_on, current_mentees, free_places, open_invitations, invitations_accepted, "
        "invitations_declined, invitations_lapsed, invitations_withdrawn "
        "FROM reporting.mentor_load "
        "WHERE (%(scheme)s::uuid IS NULL OR scheme_id = %(scheme)s::uuid) "
        "AND (%(after)s::uuid IS NULL OR mentor_id > %(after)s::uuid) "
        "ORDER BY mentor_id LIMIT %(limit)s",
        {"scheme": scheme_id, "after": after, "limit": check_limit(limit) + 1},
    )
    return page(items, limit, "mentor_id")


def equity(conn: psycopg.Connection[Any], scheme_id: UUID | str) -> list[dict[str, Any]]:
    """Rates by demographic field and group: `{field, group, metric, suppressed,
    numerator, denominator, value}`; suppressed rows have null counts and value."""
    return fetch_rows(
        conn,
        "SELECT field, group_name AS group, metric, suppressed, numerator, denominator, value "
        "FROM reporting.equity WHERE scheme_id = %s::uuid ORDER BY field, group_name, ordinal",
        (scheme_id,),
        report=True,
    )


def counts_as_of(
    conn: psycopg.Connection[Any], scheme_id: UUID | str, as_of: datetime
) -> dict[str, Any]:
    """Relationships of a scheme per state at `as_of` (aware datetime), with how
    many of them were stalled: `{scheme_id, as_of, counts: {state: n}, stalled, total}`."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must have a timezone")
    rows = fetch_rows(
        conn,
        "SELECT state, count(*) AS n, count(*) FILTER (WHERE stalled) AS stalled "
        "FROM reporting.relationship_history WHERE scheme_id = %(scheme)s::uuid "
        "AND valid_from <= %(t)s AND (valid_to IS NULL OR valid_to > %(t)s) GROUP BY state",
        {"scheme": scheme_id, "t": as_of},
        report=True,
    )
    counts = dict.fromkeys((state.value for state in State), 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return {
        "scheme_id": str(scheme_id),
        "as_of": as_of.isoformat(),
        "counts": counts,
        "stalled": sum(row["stalled"] for row in rows),
        "total": sum(counts.values()),
    }


AUDIT_COLUMNS = (
    "position, recorded_at, aggregate_type, aggregate_id, aggregate_version, event_type, "
    "actor_role, actor_id, details"
)


def audit_entries(
    conn: psycopg.Connection[Any],
    *,
    aggregate_id: UUID | str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
    include_sealed: bool = False,
) -> Page:
    """Audit rows in position order: `{position, recorded_at, aggregate_type,
    aggregate_id, aggregate_version, event_type, actor_role, actor_id, details}` and
    `sealed` when `include_sealed` (auditors only). A sealed actor shows as null."""
    after = decode_cursor(cursor, 1)[0] if cursor else 0
    columns = AUDIT_COLUMNS + (", sealed" if include_sealed else "")
    items = fetch_rows(
        conn,
        f"SELECT {columns} FROM reporting.audit_log "
        "WHERE position > %(after)s "
        "AND (%(aggregate)s::uuid IS NULL OR aggregate_id = %(aggregate)s::uuid) "
        "AND (%(since)s::timestamptz IS NULL OR recorded_at >= %(since)s::timestamptz) "
        "ORDER BY position LIMIT %(limit)s",
        {
            "after": int(after),
            "aggregate": aggregate_id,
            "since": since,
            "limit": check_limit(limit) + 1,
        },
    )
    return page(items, limit, "position")


def verify_audit(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Check the audit log's hash chain from the first row, and that it reaches the
    head of the event store: `{ok, rows, complete, lag, first_bad_row}`. `lag`: the
    events recorded but not yet in the trail when the check began; `complete`: none;
    `first_bad_row`: the position of the first row that does not follow, or None.
    `ok` only if the chain is intact and complete."""
    lag = max(head_position(conn) - projection_positions(conn)["audit_log"], 0)
    with conn.transaction(), conn.cursor("audit_verify", row_factory=dict_row) as curs:
        curs.itersize = 5000
        curs.execute("SELECT * FROM reporting.audit_log ORDER BY position")
        chain = verify_chain(curs)
    return chain | {"ok": chain["ok"] and lag == 0, "complete": lag == 0, "lag": lag}


# The relationships table (for the API's list) --------------------------------------


def relationship(
    conn: psycopg.Connection[Any], relationship_id: UUID | str
) -> dict[str, Any] | None:
    """One row of `reporting.relationships`, or None."""
    rows = fetch_rows(
        conn,
        "SELECT * FROM reporting.relationships WHERE id = %s::uuid",
        (relationship_id,),
    )
    return rows[0] if rows else None


def relationships(
    conn: psycopg.Connection[Any],
    *,
    scheme_id: UUID | str | None = None,
    state: str | None = None,
    stalled: bool | None = None,
    mentor_id: UUID | str | None = None,
    mentee_id: UUID | str | None = None,
    in_schemes: Collection[UUID | str] | None = None,
    of_mentor: UUID | str | None = None,
    of_mentee: UUID | str | None = None,
    limit: int = 100,
    cursor: int = 0,
) -> Page:
    """Rows of `reporting.relationships` (with `pause_reason` from
    `relationship_pauses`) matching every filter given (the filters, then
    a caller's scope: `in_schemes`, `of_mentor`, `of_mentee`), in the order they were
    requested. The cursor is the `requested_position` of the last row of the page
    before (an int); `next_cursor` is None on the last page. Times are in UTC."""
    with conn.transaction():
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        items = fetch_rows(
            conn,
            "SELECT r.*, p.pause_reason FROM reporting.relationships r "
            "LEFT JOIN reporting.relationship_pauses p USING (id) "
            "WHERE requested_position > %(after)s "
            "AND (%(scheme)s::uuid IS NULL OR scheme_id = %(scheme)s::uuid) "
            "AND (%(state)s::text IS NULL OR state = %(state)s::text) "
            "AND (%(stalled)s::boolean IS NULL OR stalled = %(stalled)s::boolean) "
            "AND (%(mentor)s::uuid IS NULL OR mentor_id = %(mentor)s::uuid) "
            "AND (%(mentee)s::uuid IS NULL OR mentee_id = %(mentee)s::uuid) "
            "AND (%(schemes)s::uuid[] IS NULL OR scheme_id = ANY(%(schemes)s::uuid[])) "
            "AND (%(of_mentor)s::uuid IS NULL OR mentor_id = %(of_mentor)s::uuid) "
            "AND (%(of_mentee)s::uuid IS NULL OR mentee_id = %(of_mentee)s::uuid) "
            "ORDER BY requested_position LIMIT %(limit)s",
            {
                "after": cursor,
                "scheme": scheme_id,
                "state": state,
                "stalled": stalled,
                "mentor": mentor_id,
                "mentee": mentee_id,
                "schemes": None if in_schemes is None else list(in_schemes),
                "of_mentor": of_mentor,
                "of_mentee": of_mentee,
                "limit": check_limit(limit) + 1,
            },
        )
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": items[-1]["requested_position"] if more else None}


# The mentor directory ----------------------------------------------------------------


def mentor_directory(
    conn: psycopg.Connection[Any],
    *,
    scheme_id: UUID | str | None = None,
    in_schemes: Collection[UUID | str] | None = None,
) -> list[dict[str, Any]]:
    """Registered mentors of the scheme (and of `in_schemes`, a caller's scope; None:
    every scheme), in the order they were registered: `{id, scheme_id, name, email,
    grade, specialty, institution, interests, capacity, available, trained_on, load,
    places_held, version}`. `load`: pairs holding a place; `places_held`: invitations
    awaiting the mentor's answer."""
    return fetch_rows(
        conn,
        "SELECT m.mentor_id AS id, m.scheme_id, p.name, p.email, m.grade, m.specialty, "
        "m.institution, p.interests, m.capacity, m.available, m.trained_on, "
        "m.current_mentees AS load, m.open_invitations AS places_held, m.version "
        "FROM reporting.mentor_load m JOIN reporting.mentor_profiles p USING (mentor_id) "
        "WHERE (%(scheme)s::uuid IS NULL OR m.scheme_id = %(scheme)s::uuid) "
        "AND (%(schemes)s::uuid[] IS NULL OR m.scheme_id = ANY(%(schemes)s::uuid[])) "
        "ORDER BY p.position",
        {"scheme": scheme_id, "schemes": None if in_schemes is None else list(in_schemes)},
    )


def scheme_of(
    conn: psycopg.Connection[Any], person: typing.Literal["mentor", "mentee"], person_id: UUID | str
) -> str | None:
    """The scheme of a registered mentor or mentee, or None."""
    query = (
        "SELECT m.scheme_id FROM reporting.mentor_load m "
        "JOIN reporting.mentor_profiles p USING (mentor_id) WHERE m.mentor_id = %s::uuid"
        if person == "mentor"
        else "SELECT scheme_id FROM reporting.evaluation_mentees WHERE mentee_id = %s::uuid"
    )
    rows = fetch_rows(conn, query, (person_id,))
    return str(rows[0]["scheme_id"]) if rows else None
