"""`mentoring keys migrate`: put the personal fields of events stored before
per-person keys (services.keys) under their people's keys.

Each stored event whose personal fields are still plain is decoded (upcast to its
class's current version) and encoded again with those fields sealed, in place: its
originator, version, topic and notification id stay as they were, so positions,
tracking and the audit log's chain are untouched (the audit log never held personal
fields). Running it again changes nothing.
"""

from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Mapper
from psycopg.sql import SQL, Identifier

from domain.privacy import keyed_fields
from services.application import Mentoring
from services.keys import is_sealed

PAGE = 500


@dataclass(frozen=True)
class Migrated:
    events_read: int
    events_sealed: int


def migrate_keys(mentoring: Mentoring) -> Migrated:
    """Seal every plain personal field in the event store (PostgreSQL only)."""
    datastore: Any = getattr(mentoring.factory, "datastore", None)
    if datastore is None:
        raise ValueError("keys migrate needs the event store in PostgreSQL")
    table = Identifier(datastore.schema, mentoring.recorder.events_table_name)  # type: ignore[attr-defined]
    update = SQL(
        "UPDATE {0} SET state = %s WHERE originator_id = %s AND originator_version = %s"
    ).format(table)
    read = sealed = 0
    start = 1
    while True:
        page = mentoring.recorder.select_notifications(start, PAGE)
        for notification in page:
            read += 1
            # As stored: the plain decoding leaves sealed fields sealed.
            domain_event = Mapper.to_domain_event(mentoring.mapper, notification)
            state = vars(domain_event)
            plain = [
                field
                for field in keyed_fields(domain_event) & state.keys()
                if state[field] is not None and not is_sealed(state[field])
            ]
            if not plain:
                continue
            stored = mentoring.mapper.to_stored_event(domain_event)
            with datastore.transaction(commit=True) as curs:
                curs.execute(
                    update,
                    (stored.state, notification.originator_id, notification.originator_version),
                )
            sealed += 1
        if len(page) < PAGE:
            return Migrated(read, sealed)
        start = page[-1].id + 1
