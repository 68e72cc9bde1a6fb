"""Mentors and mentees: their profiles, and the facts that pairing rules depend on."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import bounds
from domain.actors import Actor
from domain.copying import CopiedForCommands
from domain.errors import DomainError, InvalidValue, NotEligible
from domain.privacy import ERASED, Classified


class LeftScheme(NotEligible):
    """The person has left the scheme: they are not invited, matched or asked for
    again, and leaving a second time changes nothing (409)."""

    def __init__(self, kind: str) -> None:
        super().__init__("left_scheme", f"the {kind} has left the scheme")


class Mentor(CopiedForCommands, Aggregate):
    """A mentor in one scheme. `relationship_ids` are the pairs holding one of the
    mentor's places (matched or active); capacity bounds their number. `reminders`:
    whether they are sent reminders (never invitations: those always go)."""

    reminders: bool = True  # until they turn them off (and for records from before)
    erased: bool = False
    left_at: datetime | None = None  # until they leave the scheme

    class Event(Aggregate.Event, Classified):
        """Every event of a mentor."""

    class Registered(Aggregate.Created, Event):
        scheme_id: UUID
        name: str
        email: str
        grade: str
        specialty: str
        institution: str
        interests: list[str]
        capacity: int
        trained_on: date | None
        actor: Actor

        PERSONAL_FIELDS = frozenset({"name", "email"})

    class CapacityChanged(Event):
        capacity: int
        actor: Actor

    class AvailabilityChanged(Event):
        available: bool
        actor: Actor

    class TrainingRecorded(Event):
        trained_on: date
        actor: Actor

    class RemindersChanged(Event):
        reminders: bool
        actor: Actor

    class PlaceTaken(Event):
        relationship_id: UUID
        actor: Actor

    class PlaceReleased(Event):
        """Saved by the same command as the relationship's `Ended` when it ends: its
        actor is sealed, or it would name who ended it."""

        relationship_id: UUID
        actor: Actor

        SEALED_FIELDS = frozenset({"actor"})

    class Erased(Event):
        """The person's key was destroyed (services.keys): who erased them, when and
        under what reason or rule. `subject_ids`: every key destroyed (theirs and
        their relationships'). Holds no personal data."""

        reason: str
        subject_ids: list[UUID]
        actor: Actor

    class Left(Event):
        """The mentor has left the scheme; their records stay until retention."""

        actor: Actor

    @event(Registered)
    def __init__(
        self,
        scheme_id: UUID,
        name: str,
        email: str,
        grade: str,
        specialty: str,
        institution: str,
        interests: list[str],
        capacity: int,
        trained_on: date | None,
        actor: Actor,
    ) -> None:
        self.scheme_id = scheme_id
        self.name = name
        self.email = email
        self.grade = grade
        self.specialty = specialty
        self.institution = institution
        self.interests = interests
        self.capacity = capacity
        self.trained_on = trained_on
        self.available = True
        self.relationship_ids: list[UUID] = []

    @classmethod
    def register(cls, profile: dict[str, Any], today: date, actor: Actor) -> "Mentor":
        """A new mentor from the fields of `Registered`. Raises InvalidValue for a
        negative capacity, or a `trained_on` outside domain.bounds.check_past_date."""
        if profile["capacity"] < 0:
            raise InvalidValue("capacity must be zero or more")
        if profile["trained_on"] is not None:
            bounds.check_past_date("trained_on", profile["trained_on"], today)
        return cls(**profile, actor=actor)

    @property
    def load(self) -> int:
        return len(self.relationship_ids)

    @property
    def has_room(self) -> bool:
        return self.load < self.capacity

    def change_capacity(self, capacity: int, actor: Actor) -> None:
        """Raises DomainError if the new capacity is below the mentor's current pairs."""
        if capacity < 0:
            raise InvalidValue("capacity must be zero or more")
        if capacity < self.load:
            raise DomainError(
                f"the mentor has {self.load} current pairs; capacity cannot go below that"
            )
        if capacity != self.capacity:
            self._capacity_changed(capacity=capacity, actor=actor)

    @event(CapacityChanged)
    def _capacity_changed(self, capacity: int, actor: Actor) -> None:
        self.capacity = capacity

    def set_availability(self, available: bool, actor: Actor) -> None:
        """Raises LeftScheme to make a mentor who has left available again."""
        if available and self.left_at is not None:
            raise LeftScheme("mentor")
        if available != self.available:
            self._availability_changed(available=available, actor=actor)

    @event(AvailabilityChanged)
    def _availability_changed(self, available: bool, actor: Actor) -> None:
        self.available = available

    def record_training(self, trained_on: date, today: date, actor: Actor) -> None:
        """Raises InvalidValue for a date outside domain.bounds.check_past_date."""
        bounds.check_past_date("trained_on", trained_on, today)
        if trained_on != self.trained_on:
            self._training_recorded(trained_on=trained_on, actor=actor)

    @event(TrainingRecorded)
    def _training_recorded(self, trained_on: date, actor: Actor) -> None:
        self.trained_on = trained_on

    def set_reminders(self, reminders: bool, actor: Actor) -> None:
        if reminders != self.reminders:
            self._reminders_changed(reminders=reminders, actor=actor)

    @event(RemindersChanged)
    def _reminders_changed(self, reminders: bool, actor: Actor) -> None:
        self.reminders = reminders

    def take_place(self, relationship_id: UUID, actor: Actor) -> None:
        """Raises DomainError when the mentor has no room left: the last place went
        to someone else first."""
        if relationship_id in self.relationship_ids:
            return
        if self.left_at is not None:
            raise LeftScheme("mentor")
        if not self.has_room:
            raise NotEligible("no_capacity", f"the mentor is at full capacity ({self.capacity})")
        self._place_taken(relationship_id=relationship_id, actor=actor)

    @event(PlaceTaken)
    def _place_taken(self, relationship_id: UUID, actor: Actor) -> None:
        self.relationship_ids.append(relationship_id)

    def release_place(self, relationship_id: UUID, actor: Actor) -> None:
        if relationship_id in self.relationship_ids:
            self._place_released(relationship_id=relationship_id, actor=actor)

    @event(PlaceReleased)
    def _place_released(self, relationship_id: UUID, actor: Actor) -> None:
        self.relationship_ids.remove(relationship_id)

    def erase(self, reason: str, subject_ids: list[UUID], actor: Actor) -> None:
        """Record the erasure (once). Raises DomainError while the person has an
        open relationship: it must be ended first."""
        if self.erased:
            return
        if self.relationship_ids:
            raise DomainError("the person has an open relationship; end it before erasing them")
        self._erased(reason=reason, subject_ids=subject_ids, actor=actor)

    @event(Erased)
    def _erased(self, reason: str, subject_ids: list[UUID], actor: Actor) -> None:
        erase_profile(self)

    def leave(self, actor: Actor) -> None:
        """Record that the mentor has left the scheme: no longer available (so never
        a candidate). Their pairs are the application's to end first. Raises
        LeftScheme if they have left already."""
        if self.left_at is not None:
            raise LeftScheme("mentor")
        self.set_availability(False, actor)
        self._left(actor=actor)

    @event(Left)
    def _left(self, actor: Actor, timestamp: datetime | None = None) -> None:
        self.left_at = timestamp


class Mentee(CopiedForCommands, Aggregate):
    """A mentee in one scheme and cohort. Holds at most one open request, and
    remembers every mentor they have had (never to be paired with again).
    `reminders`: whether they are sent reminders."""

    reminders: bool = True  # until they turn them off (and for records from before)
    erased: bool = False
    left_at: datetime | None = None  # until they leave the scheme

    class Event(Aggregate.Event, Classified):
        """Every event of a mentee."""

    class Registered(Aggregate.Created, Event):
        scheme_id: UUID
        cohort: str
        name: str
        email: str
        grade: str
        specialty: str
        specialty_decided: bool
        institution: str
        interests: list[str]
        objectives: list[str]
        line_manager_ids: list[UUID]
        demographics: dict[str, str] | None
        actor: Actor

        PERSONAL_FIELDS = frozenset({"name", "email", "objectives"})
        SPECIAL_CATEGORY_FIELDS = frozenset({"demographics"})

    class RequestOpened(Event):
        relationship_id: UUID
        actor: Actor

    class RequestClosed(Event):
        """Saved by the same command as the relationship's `Ended` when it ends: its
        actor is sealed, or it would name who ended it."""

        relationship_id: UUID
        actor: Actor

        SEALED_FIELDS = frozenset({"actor"})

    class Left(Event):
        """The mentee has left the scheme; their records stay until retention."""

        actor: Actor

    class MentorRecorded(Event):
        mentor_id: UUID
        actor: Actor

    class RemindersChanged(Event):
        reminders: bool
        actor: Actor

    class Erased(Event):
        """The person's key was destroyed (services.keys): who erased them, when and
        under what reason or rule. `subject_ids`: every key destroyed (theirs and
        their relationships'). Holds no personal data."""

        reason: str
        subject_ids: list[UUID]
        actor: Actor

    class ObjectivesChanged(Event):
        """The mentee's own objectives for mentoring, as they rewrote them."""

        objectives: list[str]
        actor: Actor

        PERSONAL_FIELDS = frozenset({"objectives"})

    @event(Registered)
    def __init__(
        self,
        scheme_id: UUID,
        cohort: str,
        name: str,
        email: str,
        grade: str,
        specialty: str,
        specialty_decided: bool,
        institution: str,
        interests: list[str],
        objectives: list[str],
        line_manager_ids: list[UUID],
        demographics: dict[str, str] | None,
        actor: Actor,
    ) -> None:
        self.scheme_id = scheme_id
        self.cohort = cohort
        self.name = name
        self.email = email
        self.grade = grade
        self.specialty = specialty
        self.specialty_decided = specialty_decided
        self.institution = institution
        self.interests = interests
        self.objectives = objectives
        self.line_manager_ids = line_manager_ids
        self.demographics = demographics
        self.open_relationship_id: UUID | None = None
        self.previous_mentor_ids: list[UUID] = []

    def open_request(self, relationship_id: UUID, actor: Actor) -> None:
        """Raises DomainError if the mentee already has an open request, LeftScheme
        if they have left the scheme."""
        if self.left_at is not None:
            raise LeftScheme("mentee")
        if self.open_relationship_id is not None:
            raise DomainError(
                f"the mentee already has an open request ({self.open_relationship_id})"
            )
        self._request_opened(relationship_id=relationship_id, actor=actor)

    @event(RequestOpened)
    def _request_opened(self, relationship_id: UUID, actor: Actor) -> None:
        self.open_relationship_id = relationship_id

    def close_request(self, relationship_id: UUID, actor: Actor) -> None:
        if self.open_relationship_id == relationship_id:
            self._request_closed(relationship_id=relationship_id, actor=actor)

    @event(RequestClosed)
    def _request_closed(self, relationship_id: UUID, actor: Actor) -> None:
        self.open_relationship_id = None

    def record_mentor(self, mentor_id: UUID, actor: Actor) -> None:
        if mentor_id not in self.previous_mentor_ids:
            self._mentor_recorded(mentor_id=mentor_id, actor=actor)

    @event(MentorRecorded)
    def _mentor_recorded(self, mentor_id: UUID, actor: Actor) -> None:
        self.previous_mentor_ids.append(mentor_id)

    def set_reminders(self, reminders: bool, actor: Actor) -> None:
        if reminders != self.reminders:
            self._reminders_changed(reminders=reminders, actor=actor)

    @event(RemindersChanged)
    def _reminders_changed(self, reminders: bool, actor: Actor) -> None:
        self.reminders = reminders

    def change_objectives(self, objectives: list[str], actor: Actor) -> None:
        """What the mentee wants from mentoring, which matching reads with their
        interests. Raises InvalidValue for a blank objective."""
        given = [objective.strip() for objective in objectives]
        if not all(given):
            raise InvalidValue("an objective must not be blank")
        if given != self.objectives:
            self._objectives_changed(objectives=given, actor=actor)

    @event(ObjectivesChanged)
    def _objectives_changed(self, objectives: list[str], actor: Actor) -> None:
        self.objectives = objectives

    def leave(self, actor: Actor) -> None:
        """Record that the mentee has left the scheme. Their open request is the
        application's to end first. Raises LeftScheme if they have left already."""
        if self.left_at is not None:
            raise LeftScheme("mentee")
        self._left(actor=actor)

    @event(Left)
    def _left(self, actor: Actor, timestamp: datetime | None = None) -> None:
        self.left_at = timestamp

    def erase(self, reason: str, subject_ids: list[UUID], actor: Actor) -> None:
        """Record the erasure (once). Raises DomainError while the person has an
        open relationship: it must be ended first."""
        if self.erased:
            return
        if self.open_relationship_id is not None:
            raise DomainError("the person has an open relationship; end it before erasing them")
        self._erased(reason=reason, subject_ids=subject_ids, actor=actor)

    @event(Erased)
    def _erased(self, reason: str, subject_ids: list[UUID], actor: Actor) -> None:
        erase_profile(self)


def erase_profile(person: Mentor | Mentee) -> None:
    """What an erased person's record reads as: the personal fields as services.keys
    reads them once the key is gone."""
    person.erased = True
    person.name = ERASED
    person.email = ERASED
    if isinstance(person, Mentee):
        person.objectives = []
        person.demographics = {}
