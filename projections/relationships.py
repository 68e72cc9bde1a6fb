"""`reporting.relationships`: every relationship as it stands now, one row each
(the fields of `GET /v1/relationships/{id}` and a few more)."""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from domain.relationship import Relationship
from projections.events import ALL_RELATIONSHIP_TOPICS
from projections.pairs import PAIR_COLUMNS, Row, fold_pair, new_pair
from projections.view import (
    Positioned,
    ReportingProjection,
    ReportingView,
    create_table_sql,
    load_rows,
    replace_rows,
)

PAIR_COLUMN_NAMES = tuple(PAIR_COLUMNS)


def fold_pairs(
    curs: Cursor[Any], name: str, columns: Sequence[str], events: Sequence[Positioned]
) -> dict[Any, Row]:
    """Load the rows of the relationships in `events` from `reporting.<name>`, fold the
    events into them, and write them back. Returns the rows as written."""
    ids = {event.originator_id for event, _ in events}
    rows = load_rows(curs, name, "id", ids)
    for event, position in events:
        if isinstance(event, Relationship.Requested):
            rows[event.originator_id] = new_pair(event)
        fold_pair(rows[event.originator_id], event, position)
    replace_rows(curs, name, "id", columns, rows)
    return rows


class RelationshipsView(ReportingView):
    tables = ("relationships",)
    ddl = (
        create_table_sql("relationships", PAIR_COLUMNS),
        "CREATE INDEX IF NOT EXISTS relationships_scheme_state "
        "ON reporting.relationships (scheme_id, state)",
        "CREATE INDEX IF NOT EXISTS relationships_mentor ON reporting.relationships (mentor_id)",
        "CREATE INDEX IF NOT EXISTS relationships_mentee ON reporting.relationships (mentee_id)",
    )


class RelationshipsProjection(ReportingProjection):
    name = "relationships"
    topics = ALL_RELATIONSHIP_TOPICS
    view_class = RelationshipsView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        fold_pairs(curs, "relationships", PAIR_COLUMN_NAMES, events)
