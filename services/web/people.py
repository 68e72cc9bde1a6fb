"""Mentors and mentees found by the email of their profile, for signing in.

Profiles are event-sourced and encrypted at rest, so there is no column to query:
the index is built in memory from the registrations and erasures in the
notification log and brought up to date, from where it stopped, on each lookup. So
it is as current as the event store in every process: a person erased by another
process is not found from then on. A profile's email never changes (no event
changes it), so an entry once made stays true until its person is erased.
"""

import threading
from typing import Literal
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.people import Mentee, Mentor
from domain.privacy import ERASED
from services.application import Mentoring

PersonKind = Literal["mentor", "mentee"]
_REGISTERED: dict[str, PersonKind] = {
    get_topic(Mentor.Registered): "mentor",
    get_topic(Mentee.Registered): "mentee",
}
_ERASED = frozenset({get_topic(Mentor.Erased), get_topic(Mentee.Erased)})
_TOPICS = sorted({*_REGISTERED, *_ERASED})
_PAGE = 500


class PeopleByEmail:
    """Safe to share between threads. An email given to several profiles (a doctor
    who mentors in one scheme and is mentored in another) finds the one registered
    last of those not erased."""

    def __init__(self, mentoring: Mentoring) -> None:
        self.mentoring = mentoring
        # Per email, the profiles with it: id -> (position registered, kind).
        self._people: dict[str, dict[UUID, tuple[int, PersonKind]]] = {}
        self._email_of: dict[UUID, str] = {}
        self._position = 0
        self._lock = threading.Lock()

    def find(self, email: str) -> tuple[PersonKind, UUID] | None:
        """(kind, id) of the profile with this email (any case), or None."""
        with self._lock:
            self._catch_up()
            found = self._people.get(email.strip().lower())
            if not found:
                return None
            person_id, (_, kind) = max(found.items(), key=lambda item: item[1][0])
        return kind, person_id

    def _catch_up(self) -> None:
        while True:
            page = self.mentoring.recorder.select_notifications(
                self._position + 1, _PAGE, topics=_TOPICS
            )
            for notification in page:
                person_id = UUID(str(notification.originator_id))
                kind = _REGISTERED.get(notification.topic)
                if kind is None:
                    self._forget(person_id)
                else:
                    self._add(notification.id, kind, person_id)
                self._position = notification.id
            if len(page) < _PAGE:
                return

    def _add(self, position: int, kind: PersonKind, person_id: UUID) -> None:
        person: Mentor | Mentee = self.mentoring.repository.get(person_id)
        if person.erased or person.email == ERASED:
            return
        email = person.email.strip().lower()
        self._people.setdefault(email, {})[person_id] = (position, kind)
        self._email_of[person_id] = email

    def _forget(self, person_id: UUID) -> None:
        email = self._email_of.pop(person_id, None)
        if email is None:
            return
        found = self._people[email]
        found.pop(person_id, None)
        if not found:
            del self._people[email]
