"""What the coordinator's board reads from the `reporting` tables beyond the API's
reports: the schemes to list, and a scheme's relationships per state for one
cohort (the API's counts are of the whole scheme)."""

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

import psycopg

from domain.vocabulary import State
from projections.reading import fetch_rows


def schemes(
    conn: psycopg.Connection[Any], in_schemes: Collection[UUID | str] | None = None
) -> list[dict[str, Any]]:
    """Schemes by name (`in_schemes` only, unless None): `{scheme_id, name, cohorts}`,
    `cohorts` the names of the cohorts the scheme defines."""
    rows = fetch_rows(
        conn,
        "SELECT scheme_id, name, cohorts FROM reporting.evaluation_schemes "
        "WHERE %(schemes)s::uuid[] IS NULL OR scheme_id = ANY(%(schemes)s::uuid[]) "
        "ORDER BY name, scheme_id",
        {"schemes": None if in_schemes is None else [str(s) for s in in_schemes]},
    )
    return [row | {"cohorts": [c["name"] for c in row["cohorts"]]} for row in rows]


def state_counts(
    conn: psycopg.Connection[Any], scheme_id: UUID | str, cohort: str | None = None
) -> dict[str, int]:
    """The scheme's relationships now, per state, and how many are `paused`, for the
    mentees of `cohort` (None: every cohort)."""
    rows = fetch_rows(
        conn,
        "SELECT r.state, count(*) AS n, count(*) FILTER (WHERE r.paused) AS paused "
        "FROM reporting.relationships r "
        "JOIN reporting.evaluation_mentees m ON m.mentee_id = r.mentee_id "
        "WHERE r.scheme_id = %(scheme)s::uuid "
        "AND (%(cohort)s::text IS NULL OR m.cohort = %(cohort)s::text) GROUP BY r.state",
        {"scheme": scheme_id, "cohort": cohort},
    )
    counts = dict.fromkeys((state.value for state in State), 0)
    counts.update({row["state"]: row["n"] for row in rows})
    counts["paused"] = sum(row["paused"] for row in rows)
    return counts


# The work queue's orders, by name: the ORDER BY of each (oldest stall first within ties).
QUEUE_ORDERS = {
    "longest": "since, relationship_id",
    "newest": "since DESC, relationship_id DESC",
    "reason": "array_position(%(reasons)s::text[], reason), since, relationship_id",
    "escalated": "escalated DESC, since, relationship_id",
}


def work_queue(
    conn: psycopg.Connection[Any],
    scheme_id: UUID | str,
    *,
    sort: str,
    reasons: Sequence[str],
    reason: str | None = None,
    escalated: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int, int]:
    """One page of the scheme's open stalls, of `reason` and `escalated` (None: any),
    in the order `sort` names (`reasons` the order of the reasons for "reason"):
    `({relationship_id, mentee_id, mentor_id, state, reason, since, escalated}, ...)`,
    how many stalls the filters keep, and how many the scheme has."""
    params = {
        "scheme": scheme_id,
        "reason": reason,
        "escalated": escalated,
        "reasons": list(reasons),
        "offset": offset,
        "limit": limit,
    }
    kept = (
        "(%(reason)s::text IS NULL OR reason = %(reason)s::text) "
        "AND (%(escalated)s::boolean IS NULL OR escalated = %(escalated)s::boolean)"
    )
    totals = fetch_rows(
        conn,
        f"SELECT count(*) AS stalled, count(*) FILTER (WHERE {kept}) AS kept "
        "FROM reporting.stalled_pairs WHERE scheme_id = %(scheme)s::uuid",
        params,
    )[0]
    rows = fetch_rows(
        conn,
        "SELECT relationship_id, mentee_id, mentor_id, state, reason, since, escalated "
        f"FROM reporting.stalled_pairs WHERE scheme_id = %(scheme)s::uuid AND {kept} "
        f"ORDER BY {QUEUE_ORDERS[sort]} OFFSET %(offset)s LIMIT %(limit)s",
        params,
    )
    return rows, totals["kept"], totals["stalled"]
