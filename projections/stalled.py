"""`reporting.stalled_pairs`: the coordinator's work list, one row per open stall
(reason, since when, escalated or not). A row goes when the stall clears or the
relationship ends."""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from projections.events import STATE_TOPICS
from projections.pairs import PAIR_COLUMNS
from projections.relationships import fold_pairs
from projections.view import (
    Positioned,
    ReportingProjection,
    ReportingView,
    copy_rows,
    create_table_sql,
    delete_rows,
)

# What the projection remembers of every relationship, stalled or not.
INDEX_COLUMNS = {
    column: PAIR_COLUMNS[column]
    for column in (
        "id",
        "scheme_id",
        "mentee_id",
        "mentor_id",
        "state",
        "stalled",
        "stall_reason",
        "stalled_since",
        "escalated",
        "escalated_at",
        "version",
        "updated_at",
        "position",
    )
}
STALLED_COLUMNS: dict[str, str] = {
    "relationship_id": "uuid PRIMARY KEY",
    "scheme_id": "uuid NOT NULL",
    "mentee_id": "uuid NOT NULL",
    "mentor_id": "uuid",
    "state": "text NOT NULL",
    "reason": "text NOT NULL",
    "since": "timestamptz NOT NULL",
    "escalated": "boolean NOT NULL",
    "escalated_at": "timestamptz",
}


class StalledView(ReportingView):
    tables = ("stalled_pairs", "stalled_pairs_relationships")
    ddl = (
        create_table_sql("stalled_pairs_relationships", INDEX_COLUMNS),
        create_table_sql("stalled_pairs", STALLED_COLUMNS),
        "CREATE INDEX IF NOT EXISTS stalled_pairs_scheme "
        "ON reporting.stalled_pairs (scheme_id, since)",
    )


class StalledProjection(ReportingProjection):
    name = "stalled_pairs"
    topics = STATE_TOPICS
    view_class = StalledView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        rows = fold_pairs(curs, "stalled_pairs_relationships", tuple(INDEX_COLUMNS), events)
        stalls = [
            {
                "relationship_id": row["id"],
                "scheme_id": row["scheme_id"],
                "mentee_id": row["mentee_id"],
                "mentor_id": row["mentor_id"],
                "state": row["state"],
                "reason": row["stall_reason"],
                "since": row["stalled_since"],
                "escalated": row["escalated"],
                "escalated_at": row["escalated_at"],
            }
            for row in rows.values()
            if row["stalled"]
        ]
        delete_rows(curs, "stalled_pairs", "relationship_id", rows.keys())
        copy_rows(curs, "stalled_pairs", tuple(STALLED_COLUMNS), stalls)
