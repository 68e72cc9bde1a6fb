"""Notices that follow a relationship's events rather than its timers: the
invitation to a mentor, the match (to both), the rematch (to the mentee), and to
the scheme's coordinators a mentee's request for a new mentor and a party's
private "no" to "Is this pairing working for you?" (never to the other party).

The sender records them itself, with its own tracking: in one transaction it
locks its position in the notification log, inserts a notice for each such event
after it (keyed by the event's version, so a second try records nothing new) and
moves the position. A crash rolls all three back; two senders take turns on the
lock. The timers' notices come from the relationship's workflow
(workflows.activities.notify); both end in the same outbox.
"""

from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from domain.relationship import Relationship
from services.application import Mentoring
from workflows.model import Notice
from workflows.outbox import record_notice

TRACKING_NAME = "relationship events"

CREATE_TRACKING = """
CREATE TABLE IF NOT EXISTS notification_event_tracking (
    name text PRIMARY KEY,
    position bigint NOT NULL
)
"""


@dataclass(frozen=True)
class EventNotice:
    """The notice an event of this class gives: who hears and what about."""

    audience: str
    kind: str


EVENT_NOTICES: dict[type[Relationship.Event], EventNotice] = {
    Relationship.MentorInvited: EventNotice("mentor", "invitation"),
    Relationship.Matched: EventNotice("pair", "matched"),
    Relationship.InvitationAccepted: EventNotice("pair", "matched"),
    Relationship.Rematched: EventNotice("mentee", "rematched"),
    Relationship.RematchAsked: EventNotice("coordinator", "rematch_asked"),
    Relationship.PairingChecked: EventNotice("coordinator", "pairing_not_working"),
}
TOPICS = [get_topic(event_class) for event_class in EVENT_NOTICES]


def notice_of(domain_event: Any) -> tuple[Notice, int | None] | None:
    """The notice an event gives and the version it is about, or None. A rematch is
    told about the new request (its link leads there), as it stands now."""
    given = EVENT_NOTICES.get(type(domain_event))
    if given is None:
        return None
    if isinstance(domain_event, Relationship.PairingChecked) and domain_event.working:
        return None  # only a "no" is told, and only to the coordinators
    version = domain_event.originator_version
    if isinstance(domain_event, Relationship.Rematched):
        relationship_id = str(domain_event.new_relationship_id)
        return Notice(relationship_id, given.audience, given.kind, f"rematch_of:{version}"), None
    relationship_id = str(domain_event.originator_id)
    return Notice(relationship_id, given.audience, given.kind, f"v{version}"), version


class EventNotices:
    """Records the notices of new relationship events in the outbox, exactly once."""

    def __init__(self, mentoring: Mentoring, pool: ConnectionPool) -> None:
        self.mentoring = mentoring
        self.pool = pool

    def create_table(self) -> None:
        with self.pool.connection() as connection:
            connection.execute(CREATE_TRACKING)

    def start_at_head(self) -> None:
        """Where a new deployment, or one upgraded to this release, starts: at the
        events recorded so far (whose people were told another way, or not at all),
        unless a position is tracked already. The API calls it before it serves, so
        every event it records afterwards gives its notice."""
        head = self.mentoring.recorder.max_notification_id() or 0
        with self.pool.connection() as connection:
            connection.execute(
                "INSERT INTO notification_event_tracking (name, position) VALUES (%s, %s)"
                " ON CONFLICT (name) DO NOTHING",
                (TRACKING_NAME, head),
            )

    def record_new(self, limit: int = 500) -> int:
        """Record the notices of up to `limit` events after the tracked position;
        how many notices were new."""
        recorded = 0
        with self.pool.connection() as connection, connection.transaction():
            position = self._lock_position(connection)
            notifications = self.mentoring.recorder.select_notifications(
                position, limit, topics=TOPICS, inclusive_of_start=False
            )
            for notification in notifications:
                found = notice_of(self.mentoring.mapper.to_domain_event(notification))
                if found is not None:
                    recorded += record_notice(connection, found[0], found[1])
            if notifications:
                connection.execute(
                    "UPDATE notification_event_tracking SET position = %s WHERE name = %s",
                    (notifications[-1].id, TRACKING_NAME),
                )
        return recorded

    def _lock_position(self, connection: Any) -> int:
        row = connection.execute(
            "INSERT INTO notification_event_tracking AS t (name, position) VALUES (%s, 0) "
            "ON CONFLICT (name) DO UPDATE SET position = t.position RETURNING position",
            (TRACKING_NAME,),
        ).fetchone()
        return int(row[0])
