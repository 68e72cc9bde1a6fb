"""`reporting.relationships`: every relationship as it stands now, one row each
(the fields of `GET /v1/relationships/{id}` and a few more), which the API's list
of relationships is served from; with `reporting.relationship_pauses`, why the
paused ones are paused (personal, so apart: the reporter role does not read it)."""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from domain.relationship import Relationship
from projections.events import ALL_RELATIONSHIP_TOPICS
from projections.pairs import (
    LISTING_COLUMNS,
    LISTING_JSON_COLUMNS,
    PAIR_COLUMNS,
    Row,
    fold_pair,
    new_pair,
)
from projections.view import (
    Positioned,
    ReportingProjection,
    ReportingView,
    copy_rows,
    create_table_sql,
    delete_rows,
    load_rows,
    replace_rows,
)

RELATIONSHIP_COLUMNS = PAIR_COLUMNS | LISTING_COLUMNS
PAUSE_COLUMNS: dict[str, str] = {"id": "uuid PRIMARY KEY", "pause_reason": "text NOT NULL"}


def fold_pairs(
    curs: Cursor[Any],
    name: str,
    columns: Sequence[str],
    events: Sequence[Positioned],
    json_columns: Sequence[str] = (),
) -> dict[Any, Row]:
    """Load the rows of the relationships in `events` from `reporting.<name>`, fold the
    events into them, and write them back. Returns the rows as written."""
    rows = load_rows(curs, name, "id", {event.originator_id for event, _ in events})
    fold_rows(rows, events)
    replace_rows(curs, name, "id", columns, rows, json_columns)
    return rows


def fold_rows(rows: dict[Any, Row], events: Sequence[Positioned]) -> None:
    """Fold the events into their relationships' rows, in place; `Requested` starts a
    row."""
    for event, position in events:
        if isinstance(event, Relationship.Requested):
            row = rows[event.originator_id] = new_pair(event)
            row["requested_position"] = position
        else:
            row = rows[event.originator_id]
        fold_pair(row, event, position)


class RelationshipsView(ReportingView):
    tables = ("relationships", "relationship_pauses")
    ddl = (
        create_table_sql("relationships", RELATIONSHIP_COLUMNS),
        create_table_sql("relationship_pauses", PAUSE_COLUMNS),
        "CREATE INDEX IF NOT EXISTS relationships_scheme_state "
        "ON reporting.relationships (scheme_id, state)",
        "CREATE INDEX IF NOT EXISTS relationships_mentor ON reporting.relationships (mentor_id)",
        "CREATE INDEX IF NOT EXISTS relationships_mentee ON reporting.relationships (mentee_id)",
        "CREATE UNIQUE INDEX IF NOT EXISTS relationships_requested_position "
        "ON reporting.relationships (requested_position)",
    )


class RelationshipsProjection(ReportingProjection):
    name = "relationships"
    topics = ALL_RELATIONSHIP_TOPICS
    view_class = RelationshipsView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        ids = {event.originator_id for event, _ in events}
        rows = load_rows(curs, "relationships", "id", ids)
        reasons = load_rows(curs, "relationship_pauses", "id", ids)
        for relationship_id, row in rows.items():
            row["pause_reason"] = reasons.get(relationship_id, {}).get("pause_reason")
        fold_rows(rows, events)
        replace_rows(
            curs, "relationships", "id", tuple(RELATIONSHIP_COLUMNS), rows, LISTING_JSON_COLUMNS
        )
        delete_rows(curs, "relationship_pauses", "id", rows.keys())
        paused = [
            {"id": relationship_id, "pause_reason": row["pause_reason"]}
            for relationship_id, row in rows.items()
            if row.get("pause_reason") is not None
        ]
        copy_rows(curs, "relationship_pauses", tuple(PAUSE_COLUMNS), paused)
