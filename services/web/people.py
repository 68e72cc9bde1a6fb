"""Mentors and mentees found by the email of their profile, for signing in.

Profiles are event-sourced and encrypted at rest, so there is no column to query:
the index is built in memory from the registrations in the notification log and
brought up to date, from where it stopped, on each lookup. A profile's email never
changes (no event changes it), so an entry once made stays true.
"""

import threading
from typing import Literal
from uuid import UUID

from domain.people import Mentee, Mentor
from services.application import Mentoring

PersonKind = Literal["mentor", "mentee"]
_KINDS: tuple[tuple[PersonKind, type[Mentor] | type[Mentee]], ...] = (
    ("mentor", Mentor),
    ("mentee", Mentee),
)


class PeopleByEmail:
    """Safe to share between threads. An email given to several profiles (a doctor
    who mentors in one scheme and is mentored in another) finds the one registered
    last."""

    def __init__(self, mentoring: Mentoring) -> None:
        self.mentoring = mentoring
        self._people: dict[str, tuple[int, PersonKind, UUID]] = {}
        self._after: dict[PersonKind, int] = {"mentor": 0, "mentee": 0}
        self._lock = threading.Lock()

    def find(self, email: str) -> tuple[PersonKind, UUID] | None:
        """(kind, id) of the profile with this email (any case), or None."""
        with self._lock:
            self._catch_up()
            found = self._people.get(email.strip().lower())
        return None if found is None else (found[1], found[2])

    def forget(self, person_id: UUID) -> None:
        """Drop an erased person's email from the index (services.erasure)."""
        with self._lock:
            self._catch_up()
            for email in [e for e, (_, _, found) in self._people.items() if found == person_id]:
                del self._people[email]

    def _catch_up(self) -> None:
        for kind, aggregate in _KINDS:
            for position, person in self.mentoring.all_of(aggregate, self._after[kind]):
                key = person.email.strip().lower()
                known = self._people.get(key)
                if known is None or known[0] < position:
                    self._people[key] = (position, kind, person.id)
                self._after[kind] = position
