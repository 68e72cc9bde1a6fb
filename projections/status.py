"""Which projections are stalled: `reporting.projection_status`, one row per
projection that cannot get past an event. The runner writes a row when a
projection fails (once per failed attempt, never per batch) and deletes it once
the projection applies events again; every other process reads it (readiness,
metrics, reads that wait for a position).

A row says where and how, never what: the position of the event, the exception's
type and the code location that raised it. An exception's message can quote the
event's values (personal data), so it is neither stored nor logged.
"""

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from projections.reading import fetch_rows
from projections.schema import SCHEMA

TABLE = f"{SCHEMA}.projection_status"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (name text PRIMARY KEY, "
    "stalled_since timestamptz NOT NULL DEFAULT now(), position bigint NOT NULL, "
    "error_type text NOT NULL, raised_at text NOT NULL, attempts integer NOT NULL DEFAULT 1)"
)


class EventNotProjected(Exception):
    """A projection raised while applying the event at `position`; the error it
    raised is the `__cause__`."""

    def __init__(self, name: str, position: int) -> None:
        super().__init__(f"projection {name} cannot apply the event at position {position}")
        self.name = name
        self.position = position


@dataclass(frozen=True)
class Failure:
    """Why a projection cannot go on, without the error's message: the position of
    the event it failed on (or, when no one event is at fault, the position it
    stands at), the exception's type and the `file:line in function` raising it."""

    position: int
    error_type: str
    raised_at: str

    @classmethod
    def of(cls, error: BaseException, standing_at: int) -> "Failure":
        position = standing_at
        if isinstance(error, EventNotProjected) and error.__cause__ is not None:
            position, error = error.position, error.__cause__
        frames = traceback.extract_tb(error.__traceback__)
        where = "unknown"
        if frames:
            where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}"
        return cls(position, type(error).__qualname__, where)


def create_status_table(connection: psycopg.Connection[Any]) -> None:
    """Create `reporting.projection_status` if missing (the schema must exist)."""
    connection.execute(CREATE_TABLE)


def record_stall(database_url: str, name: str, failure: Failure) -> int:
    """Record that projection `name` failed (again); returns its attempts so far."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        create_status_table(connection)
        row = connection.execute(
            f"INSERT INTO {TABLE} AS s (name, position, error_type, raised_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
            "position = excluded.position, error_type = excluded.error_type, "
            "raised_at = excluded.raised_at, attempts = s.attempts + 1 RETURNING attempts",
            (name, failure.position, failure.error_type, failure.raised_at),
        ).fetchone()
    return int(row[0]) if row else 1


def clear_stall(database_url: str, name: str) -> bool:
    """Forget a stall of projection `name`; True if one was recorded."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        create_status_table(connection)
        deleted = connection.execute(f"DELETE FROM {TABLE} WHERE name = %s", (name,)).rowcount
    return deleted > 0


def stalls(connection: psycopg.Connection[Any]) -> dict[str, dict[str, Any]]:
    """The stalled projections by name: `{stalled_since, position, error_type,
    raised_at, attempts}` (none before the runner first ran)."""
    present = fetch_rows(connection, "SELECT to_regclass(%s) IS NOT NULL AS present", (TABLE,))
    if not present[0]["present"]:
        return {}
    rows = fetch_rows(connection, f"SELECT * FROM {TABLE} ORDER BY name", ())
    return {row.pop("name"): row for row in rows}
