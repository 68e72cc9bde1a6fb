"""Every mentor of every scheme, kept in memory for matchmaking by following the
notification log: a mentor is loaded again from the event store whenever an event
of theirs is recorded (by any process), so the roster is as current as a load of
each would be, without loading them all for every list of candidates.

An erased mentor is loaded again on their `Erased` event, so nothing erased stays
here. Thread-safe; the mentors it returns are shared, to be read and never changed.
"""

from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from domain.people import Mentor

_TOPICS = sorted(
    get_topic(kind)
    for kind in vars(Mentor).values()
    if isinstance(kind, type) and issubclass(kind, Mentor.Event)
)
_PAGE = 500


class MentorRoster:
    """The mentors, as of the last notification read, in the order they registered."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._position = 0
        self._mentors: dict[UUID, Mentor] = {}

    def of_scheme(self, app: Application[Any], scheme_id: UUID) -> list[Mentor]:
        """The scheme's mentors now."""
        with self._lock:
            self._catch_up(app)
            return [mentor for mentor in self._mentors.values() if mentor.scheme_id == scheme_id]

    def _catch_up(self, app: Application[Any]) -> None:
        while True:
            page = app.recorder.select_notifications(self._position + 1, _PAGE, topics=_TOPICS)
            changed = dict.fromkeys(UUID(str(n.originator_id)) for n in page)
            for mentor_id in changed:
                mentor: Mentor = app.repository.get(mentor_id)
                self._mentors[mentor_id] = mentor
            if page:
                self._position = page[-1].id
            if len(page) < _PAGE:
                return
