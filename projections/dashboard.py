"""What the coordinator's board reads from the `reporting` tables beyond the API's
reports: the schemes to list, and a scheme's relationships per state for one
cohort (the API's counts are of the whole scheme)."""

from collections.abc import Collection
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
