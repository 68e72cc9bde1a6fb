"""`reporting.relationships`: every relationship as it stands now, one row each
(the fields of `GET /v1/relationships/{id}` and a few more), which the API's list
of relationships is served from."""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

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
    create_table_sql,
    load_rows,
    replace_rows,
)

RELATIONSHIP_COLUMNS = PAIR_COLUMNS | LISTING_COLUMNS


def fold_pairs(
    curs: Cursor[Any],
    name: str,
    columns: Sequence[str],
    events: Sequence[Positioned],
    json_columns: Sequence[str] = (),
) -> dict[Any, Row]:
    """Load the rows of the relationships in `events` from `reporting.<name>`, fold the
    events into them, and write them back. Returns the rows as written."""
    ids = {event.originator_id for event, _ in events}
    rows = load_rows(curs, name, "id", ids)
    for event, position in events:
        if type(event).__name__ == "Requested":
            rows[event.originator_id] = new_pair(event)
            rows[event.originator_id]["requested_position"] = position
        fold_pair(rows[event.originator_id], event, position)
    replace_rows(curs, name, "id", columns, rows, json_columns)
    return rows


class RelationshipsView(ReportingView):
    tables = ("relationships",)
    ddl = (
        create_table_sql("relationships", RELATIONSHIP_COLUMNS),
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
        fold_pairs(curs, "relationships", tuple(RELATIONSHIP_COLUMNS), events, LISTING_JSON_COLUMNS)
