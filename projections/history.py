"""`reporting.relationship_history`: one row per interval in which a relationship
kept the same state, stall flag and mentor; `valid_to` is null for the current one.

"How many pairs were active on 31 March" is one query:
`... WHERE state = 'active' AND valid_from <= t AND (valid_to IS NULL OR valid_to > t)`.
"""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from domain.relationship import Relationship
from projections.events import STATE_TOPICS
from projections.pairs import Row, fold_pair, new_pair
from projections.view import (
    Positioned,
    ReportingProjection,
    ReportingView,
    copy_rows,
    create_table_sql,
    delete_rows,
    load_rows,
)

HISTORY_COLUMNS: dict[str, str] = {
    "relationship_id": "uuid NOT NULL",
    "version_from": "integer NOT NULL",
    "scheme_id": "uuid NOT NULL",
    "mentee_id": "uuid NOT NULL",
    "mentor_id": "uuid",
    "state": "text NOT NULL",
    "stalled": "boolean NOT NULL",
    "valid_from": "timestamptz NOT NULL",
    "valid_to": "timestamptz",
    "position_from": "bigint NOT NULL",
}
TRACKED = ("state", "stalled", "mentor_id")


def _interval(pair: Row, event: Any, position: int) -> Row:
    return {
        "relationship_id": event.originator_id,
        "version_from": event.originator_version,
        "scheme_id": pair["scheme_id"],
        "mentee_id": pair["mentee_id"],
        "mentor_id": pair["mentor_id"],
        "state": pair["state"],
        "stalled": pair["stalled"],
        "valid_from": event.timestamp,
        "valid_to": None,
        "position_from": position,
    }


class HistoryView(ReportingView):
    tables = ("relationship_history",)
    ddl = (
        create_table_sql(
            "relationship_history",
            HISTORY_COLUMNS,
            ", PRIMARY KEY (relationship_id, version_from)",
        ),
        "CREATE INDEX IF NOT EXISTS relationship_history_scheme_time "
        "ON reporting.relationship_history (scheme_id, valid_from, valid_to)",
        "CREATE UNIQUE INDEX IF NOT EXISTS relationship_history_current "
        "ON reporting.relationship_history (relationship_id) WHERE valid_to IS NULL",
    )


class HistoryProjection(ReportingProjection):
    name = "relationship_history"
    topics = STATE_TOPICS
    view_class = HistoryView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        ids = {event.originator_id for event, _ in events}
        current = load_rows(
            curs, "relationship_history", "relationship_id", ids, "valid_to IS NULL"
        )
        touched = list(current.values())
        for event, position in events:
            if isinstance(event, Relationship.Requested):
                opened = _interval(new_pair(event), event, position)
            else:
                interval = current[event.originator_id]
                pair = {column: interval[column] for column in (*TRACKED, "scheme_id", "mentee_id")}
                fold_pair(pair, event, position)
                if all(pair[column] == interval[column] for column in TRACKED):
                    continue
                interval["valid_to"] = event.timestamp
                opened = _interval(pair, event, position)
            current[event.originator_id] = opened
            touched.append(opened)
        delete_rows(curs, "relationship_history", "relationship_id", ids, "valid_to IS NULL")
        copy_rows(curs, "relationship_history", tuple(HISTORY_COLUMNS), touched)
