"""Invitations awaiting a mentor's answer, per mentor: the places they hold.

Kept from the notification log rather than by loading every relationship: each
look-up first reads the relationship events recorded since the last one, so it is
as fresh as the event store, in any number of processes.
"""

from collections import Counter
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from domain.relationship import Relationship

# An invitation awaits an answer from MentorInvited until any of the others.
_OPENED = get_topic(Relationship.MentorInvited)
_CLOSED = frozenset(
    map(
        get_topic,
        (
            Relationship.InvitationAccepted,
            Relationship.InvitationDeclined,
            Relationship.InvitationLapsed,
            Relationship.InvitationWithdrawn,
            Relationship.Ended,
        ),
    )
)
_PAGE = 500


class InvitationsAwaitingAnswer:
    """Which mentor each open invitation is for. Thread-safe."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._position = 0
        self._mentor_of: dict[UUID, UUID] = {}

    def places_held(self, app: Application[Any]) -> Counter[UUID]:
        """Per mentor, how many invitations await their answer."""
        with self._lock:
            self._catch_up(app)
            return Counter(self._mentor_of.values())

    def awaiting(self, app: Application[Any], mentor_id: UUID) -> list[UUID]:
        """The relationships whose invitation awaits this mentor's answer."""
        with self._lock:
            self._catch_up(app)
            return [r for r, mentor in self._mentor_of.items() if mentor == mentor_id]

    def _catch_up(self, app: Application[Any]) -> None:
        topics = [_OPENED, *_CLOSED]
        while True:
            page = app.recorder.select_notifications(self._position + 1, _PAGE, topics=topics)
            for notification in page:
                relationship_id = UUID(str(notification.originator_id))
                if notification.topic == _OPENED:
                    invited = app.mapper.to_domain_event(notification)
                    self._mentor_of[relationship_id] = invited.mentor_id  # type: ignore[attr-defined]
                else:
                    self._mentor_of.pop(relationship_id, None)
                self._position = notification.id
            if len(page) < _PAGE:
                return
