"""The mentoring application: thin get -> command -> save methods over the aggregates.

Every command returns what it saved and the notification position of its last
event, so a reader can wait for projections to reach it (read-your-writes).
Commands that touch several aggregates save them in one atomic write: capacity
and the one-open-request rule cannot be broken by two people at once. The timers'
commands answer an Outcome instead, deciding and saving on one read. Candidates
and cohort runs are the `matchmaking` collaborator's (services.matchmaking).
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, AggregateEvent, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Recording
from eventsourcing.utils import get_topic

from domain import consequences, policy
from domain.actors import Actor
from domain.equity_record import AnonymousEquityRecord
from domain.errors import InvalidValue, NotEligible
from domain.matching import (
    Candidate,
    MatchBasis,
    Request,
    exclusions,
    score_candidate,
)
from domain.matching import rationale as rationale_of
from domain.people import Mentee, Mentor
from domain.policy import NextStep
from domain.relationship import Relationship
from domain.scheme import Scheme
from domain.survey_round import SurveyRound
from domain.timers import Outcome
from domain.vocabulary import EndKind, MatchingModel, State
from services.errors import Conflict, NotFound
from services.keys import PersonalMapper, PersonKeys
from services.matchmaking import Matchmaking
from services.survey_rounds import SurveyRounds
from services.transcodings import ActorAsDict, DateAsISO

A = TypeVar("A", bound=Aggregate)

# Why a pair ended, or an invitation was withdrawn, when one of them left the scheme.
LEFT_SCHEME = "left_scheme"

# The event that creates each kind of aggregate.
CREATED_EVENT: dict[type[Aggregate], type[Aggregate.Event]] = {
    Scheme: Scheme.Created,
    Mentor: Mentor.Registered,
    Mentee: Mentee.Registered,
    Relationship: Relationship.Requested,
    SurveyRound: SurveyRound.Scheduled,
    AnonymousEquityRecord: AnonymousEquityRecord.Recorded,
}


# What a caller checks of the relationship a command reads, before the command goes
# on with it: the API's access check (services.access.check_relationship), raising.
# One read serves both.
Admit = Callable[[Relationship], None]


@dataclass(frozen=True)
class Saved(Generic[A]):
    """An aggregate as saved, and the notification id of its last new event."""

    aggregate: A
    position: int


STAFF_ROLES = frozenset({"admin", "coordinator"})

# Reads and decisions a timer's command makes before it gives up to a retry.
TIMER_ATTEMPTS = 3


class Mentoring(Application[UUID]):
    """The one application of the service: one event store, one notification log."""

    name = "mentoring"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.matchmaking = Matchmaking(self)
        self.survey_rounds = SurveyRounds(self)

    def construct_mapper(self) -> Mapper[UUID]:
        """eventsourcing's mapper, with personal fields under per-person keys
        (services.keys), held beside the events when they are in PostgreSQL."""
        mapper = self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=PersonalMapper
        )
        assert isinstance(mapper, PersonalMapper)
        mapper.keys = PersonKeys(getattr(self.factory, "datastore", None), mapper.cipher)
        self.keys = mapper.keys
        return mapper

    def close(self) -> None:
        self.keys.close()
        super().close()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsDict())
        transcoder.register(DateAsISO())

    # Reading ------------------------------------------------------------------

    def _get(
        self,
        kind: type[A],
        label: str,
        aggregate_id: UUID,
        version: int | None = None,
        copy: bool = True,
    ) -> A:
        try:
            aggregate: Aggregate = self.repository.get(
                aggregate_id, version=version, deepcopy_from_cache=copy
            )
        except AggregateNotFoundError:
            raise NotFound(label, aggregate_id) from None
        if not isinstance(aggregate, kind):
            raise NotFound(label, aggregate_id)
        return aggregate

    def get_scheme(self, scheme_id: UUID) -> Scheme:
        return self._get(Scheme, "scheme", scheme_id)

    def read_scheme(self, scheme_id: UUID) -> Scheme:
        """The scheme, to read its settings and never to change it: the instance the
        aggregate cache holds, not a copy of it (get_scheme gives a copy)."""
        return self._get(Scheme, "scheme", scheme_id, copy=False)

    def get_mentor(self, mentor_id: UUID, in_scheme: UUID | None = None) -> Mentor:
        """The mentor; with `in_scheme`, NotFound for a mentor of another scheme too,
        exactly as for an id of nothing: no one learns from a scheme who is in
        another."""
        mentor = self._get(Mentor, "mentor", mentor_id)
        if in_scheme is not None and mentor.scheme_id != in_scheme:
            raise NotFound("mentor", mentor_id)
        return mentor

    def get_mentee(self, mentee_id: UUID, in_scheme: UUID | None = None) -> Mentee:
        """The mentee; with `in_scheme`, NotFound for a mentee of another scheme too,
        as get_mentor."""
        mentee = self._get(Mentee, "mentee", mentee_id)
        if in_scheme is not None and mentee.scheme_id != in_scheme:
            raise NotFound("mentee", mentee_id)
        return mentee

    def get_relationship(
        self, relationship_id: UUID, as_of: datetime | None = None
    ) -> Relationship:
        """The relationship now, or as it stood at `as_of` (NotFound if not yet requested)."""
        if as_of is None:
            return self._get(Relationship, "relationship", relationship_id)
        version = None
        for domain_event in self.events.get(relationship_id):
            if cast(AggregateEvent, domain_event).timestamp > as_of:
                break
            version = domain_event.originator_version
        if version is None:
            raise NotFound("relationship", relationship_id)
        return self._get(Relationship, "relationship", relationship_id, version)

    def _relationship(self, relationship_id: UUID, admit: Admit | None) -> Relationship:
        """The relationship now, once `admit` (if given) has let the caller have it."""
        relationship = self.get_relationship(relationship_id)
        if admit is not None:
            admit(relationship)
        return relationship

    def relationship_events(
        self, relationship_id: UUID, *, admit: Admit | None = None
    ) -> list[DomainEventProtocol[UUID]]:
        self._relationship(relationship_id, admit)
        return list(self.events.get(relationship_id))

    def ids_of(self, kind: type[Aggregate], after: int = 0) -> Iterator[tuple[int, UUID]]:
        """(position, id) of every aggregate of a kind created after a notification
        position, oldest first, from the notification log filtered to the kind's
        creation event."""
        topic = get_topic(CREATED_EVENT[kind])
        start = after + 1
        while True:
            page = self.recorder.select_notifications(start, 500, topics=[topic])
            for notification in page:
                yield notification.id, UUID(str(notification.originator_id))
            if len(page) < 500:
                return
            start = page[-1].id + 1

    def all_of(self, kind: type[A], after: int = 0) -> Iterator[tuple[int, A]]:
        """Every aggregate of a kind, with the position it was created at."""
        for position, aggregate_id in self.ids_of(kind, after):
            aggregate: Aggregate = self.repository.get(aggregate_id)
            assert isinstance(aggregate, kind)
            yield position, aggregate

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Recorded, and the cache given a copy of each aggregate as saved (the one
        returned stays the command's own): eventsourcing, fast-forwarding, leaves the
        cache at the version it last read, so the next command would read back and
        apply again the events just saved. Another process's later events still come
        in by fast-forward."""
        recordings = super()._record(processing_event)
        cache = self.repository.cache
        if cache is not None:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                cache.put(aggregate_id, deepcopy(aggregate))
        return recordings

    def _save(self, *aggregates: Aggregate) -> int:
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            raise Conflict(
                "the record was changed by someone else at the same moment; try again"
            ) from None
        notified = [r.notification.id for r in recordings if r.notification is not None]
        return max(notified, default=0)

    # Schemes ------------------------------------------------------------------

    def create_scheme(self, settings: dict[str, Any], actor: Actor) -> Saved[Scheme]:
        scheme = Scheme.create(settings, actor)
        return Saved(scheme, self._save(scheme))

    def change_scheme(
        self, scheme_id: UUID, changes: dict[str, Any], actor: Actor
    ) -> Saved[Scheme]:
        scheme = self.get_scheme(scheme_id)
        scheme.change_settings(changes, actor)
        return Saved(scheme, self._save(scheme))

    def assign_scheme_role(
        self, scheme_id: UUID, role: str, person: str, from_: date, actor: Actor
    ) -> Saved[Scheme]:
        scheme = self.get_scheme(scheme_id)
        scheme.assign_role(role, person, from_, datetime.now(UTC).date(), actor)
        return Saved(scheme, self._save(scheme))

    # People -------------------------------------------------------------------

    def register_mentor(self, profile: dict[str, Any], actor: Actor) -> Saved[Mentor]:
        mentor = self.new_mentor(profile, actor)
        return Saved(mentor, self._save(mentor))

    def new_mentor(self, profile: dict[str, Any], actor: Actor) -> Mentor:
        """A mentor registered from `profile` (the fields of `Mentor.Registered`), not
        yet saved. Raises NotFound for no such scheme, InvalidValue as Mentor.register."""
        self.get_scheme(profile["scheme_id"])
        return Mentor.register(profile, datetime.now(UTC).date(), actor)

    def update_mentor(
        self,
        mentor_id: UUID,
        actor: Actor,
        capacity: int | None = None,
        available: bool | None = None,
        trained_on: date | None = None,
        reminders: bool | None = None,
    ) -> Saved[Mentor]:
        mentor = self.get_mentor(mentor_id)
        self.change_mentor(mentor, actor, capacity, available, trained_on, reminders)
        return Saved(mentor, self._save(mentor))

    @staticmethod
    def change_mentor(
        mentor: Mentor,
        actor: Actor,
        capacity: int | None = None,
        available: bool | None = None,
        trained_on: date | None = None,
        reminders: bool | None = None,
    ) -> None:
        """Apply the changes given (None: left as it is) to `mentor`, not yet saved.
        Raises DomainError as the mentor's commands do."""
        if reminders is not None:
            mentor.set_reminders(reminders, actor)
        if capacity is not None:
            mentor.change_capacity(capacity, actor)
        if available is not None:
            mentor.set_availability(available, actor)
        if trained_on is not None:
            mentor.record_training(trained_on, datetime.now(UTC).date(), actor)

    def update_mentee(
        self,
        mentee_id: UUID,
        actor: Actor,
        reminders: bool | None = None,
        objectives: list[str] | None = None,
    ) -> Saved[Mentee]:
        """Change whether the mentee is sent reminders, and their objectives; in one
        write. InvalidValue for a blank objective, and nothing saved."""
        mentee = self.get_mentee(mentee_id)
        if reminders is not None:
            mentee.set_reminders(reminders, actor)
        if objectives is not None:
            mentee.change_objectives(objectives, actor)
        return Saved(mentee, self._save(mentee))

    def register_mentee(self, profile: dict[str, Any], actor: Actor) -> Saved[Mentee]:
        mentee = self.new_mentee(profile, actor)
        return Saved(mentee, self._save(mentee))

    def new_mentee(self, profile: dict[str, Any], actor: Actor) -> Mentee:
        """A mentee registered from `profile` (the fields of `Mentee.Registered`), not
        yet saved. Raises NotFound for no such scheme, InvalidValue for a cohort the
        scheme does not have (when it names its cohorts)."""
        scheme = self.get_scheme(profile["scheme_id"])
        if scheme.cohorts and not scheme.has_cohort(profile["cohort"]):
            raise InvalidValue(f"the scheme has no cohort {profile['cohort']!r}")
        return Mentee(**profile, actor=actor)

    def save_people(self, people: Sequence[Mentor | Mentee]) -> int:
        """Save new and changed mentors and mentees in one atomic write (a bulk
        import: all of them or none); the notification id of the last new event.
        Raises Conflict if one of them was changed by someone else meanwhile."""
        return self._save(*people)

    # Requests and matching ----------------------------------------------------

    def request_mentor(
        self,
        scheme_id: UUID,
        mentee_id: UUID,
        preferred_mentor_ids: Sequence[UUID],
        actor: Actor,
    ) -> Saved[Relationship]:
        """Open a request; a mentee holds at most one open request (DomainError).
        NotFound unless the mentee is in the scheme; InvalidValue for a preferred
        mentor who is not, whether of another scheme or of none."""
        mentee = self.get_mentee(mentee_id, in_scheme=scheme_id)
        for mentor_id in preferred_mentor_ids:
            try:
                self.get_mentor(mentor_id, in_scheme=scheme_id)
            except NotFound:
                raise InvalidValue(f"preferred mentor {mentor_id} is not in this scheme") from None
        relationship = Relationship(
            scheme_id=scheme_id,
            mentee_id=mentee_id,
            preferred_mentor_ids=list(preferred_mentor_ids),
            rematch_of=None,
            actor=actor,
        )
        mentee.open_request(relationship.id, actor)
        return Saved(relationship, self._save(relationship, mentee))

    def invite_mentor(
        self,
        relationship_id: UUID,
        mentor_id: UUID,
        actor: Actor,
        rationale: dict[str, Any] | None = None,
        basis: MatchBasis | None = None,
        *,
        admit: Admit | None = None,
    ) -> Saved[Relationship]:
        """Invite an eligible mentor; when the scheme needs no acceptance the pair is
        matched at once and the mentor's place taken. The invitation records why
        (`rationale`, else this pair's score) and on what `basis` (by default the
        one the actor implies; a cohort run names its own).

        Staff may invite a mentor whose free places are all held by invitations
        awaiting an answer (the first acceptance wins: respond_to_invitation). A
        mentee may not, and in a hybrid scheme picks one of the `proposals`.
        Raises NotEligible with the reason; NotFound for a mentor of another scheme,
        as for an unknown one.
        """
        relationship = self._relationship(relationship_id, admit)
        scheme = self.get_scheme(relationship.scheme_id)
        basis = basis or implied_basis(actor, scheme)
        touched = self._invite(relationship, scheme, mentor_id, actor, basis, rationale)
        return Saved(relationship, self._save(relationship, *touched))

    def _invite(
        self,
        relationship: Relationship,
        scheme: Scheme,
        mentor_id: UUID,
        actor: Actor,
        basis: MatchBasis,
        rationale: dict[str, Any] | None = None,
    ) -> tuple[Mentor, Mentee]:
        """Check, record why and invite, unsaved; the mentor and mentee, whom the
        caller saves with the relationship. Places held by invitations count unless
        a coordinator chose; a RANKED choice must be one of the proposals."""
        mentee = self.get_mentee(relationship.mentee_id)
        mentor = self.get_mentor(mentor_id, in_scheme=scheme.id)
        held = 0 if basis == MatchBasis.COORDINATOR else self.matchmaking.places_held()[mentor_id]
        found = exclusions(
            scheme,
            mentor,
            mentee,
            settings=scheme.matching,
            declined_mentor_ids=relationship.declined_mentor_ids,
            places_held=held,
        )
        if found:
            raise NotEligible(found[0].reason, found[0].message)
        request = Request.of(relationship, mentee)
        if basis == MatchBasis.RANKED and relationship.state == State.REQUESTED:
            proposed = self.matchmaking.ranked(scheme, request, scheme.matching["hybrid_k"])
            if mentor_id not in {c.mentor_id for c in proposed}:
                raise NotEligible(
                    "not_proposed",
                    f"the mentee picks one of the {len(proposed)} mentors proposed "
                    "to them (their candidates)",
                )
        if rationale is None:
            candidate = score_candidate(request, mentor, settings=scheme.matching, places_held=held)
            rationale = rationale_of(candidate, scheme.matching, basis)
        relationship.invite(mentor_id, scheme.require_mentor_acceptance, rationale, actor)
        if relationship.mentor_id is not None and relationship.matched_at is not None:
            self._pair(relationship, mentor, mentee, actor)
        return mentor, mentee

    def respond_to_invitation(
        self,
        relationship_id: UUID,
        accept: bool,
        actor: Actor,
        reason_category: str | None = None,
        *,
        admit: Admit | None = None,
    ) -> Saved[Relationship]:
        """Accept or decline. When two acceptances race for a mentor's last place,
        one wins; the other's invitation is withdrawn (back to requested) and it
        raises NotEligible("no_capacity"). After a decline the matching model's
        policy decides what comes next, in the same write (domain.policy). A
        decline's `reason_category` is optional and sealed."""
        if not accept:
            relationship = self._relationship(relationship_id, admit)
            relationship.decline(actor, reason_category)
            scheme = self.get_scheme(relationship.scheme_id)
            touched = self._after_refusal(relationship, scheme, Actor.system("invitation_declined"))
            return Saved(relationship, self._save(relationship, *touched))
        try:
            return self._accept(relationship_id, actor, admit)
        except Conflict:
            return self._accept(relationship_id, actor, admit)  # re-read: did we lose the place?

    def _accept(
        self, relationship_id: UUID, actor: Actor, admit: Admit | None
    ) -> Saved[Relationship]:
        relationship = self._relationship(relationship_id, admit)
        relationship.accept(actor)
        assert relationship.mentor_id is not None
        mentor = self.get_mentor(relationship.mentor_id)
        mentee = self.get_mentee(relationship.mentee_id)
        if not mentor.has_room:
            withdrawn = self.get_relationship(relationship_id)
            withdrawn.withdraw_invitation("no_capacity", Actor.system("mentor_capacity"))
            self._save(withdrawn)
            raise NotEligible("no_capacity", "the mentor's last place has just been taken")
        self._pair(relationship, mentor, mentee, actor)
        return Saved(relationship, self._save(relationship, mentor, mentee))

    @staticmethod
    def _pair(relationship: Relationship, mentor: Mentor, mentee: Mentee, actor: Actor) -> None:
        mentor.take_place(relationship.id, actor)
        mentee.record_mentor(mentor.id, actor)

    def _after_refusal(
        self, relationship: Relationship, scheme: Scheme, actor: Actor
    ) -> tuple[Aggregate, ...]:
        """Take the next step the matching model's policy (domain.policy) gives a
        request whose mentor has just declined or let the invitation lapse, unsaved;
        the aggregates touched besides the relationship."""
        best: Candidate | None = None
        if policy.looks_for_candidates(scheme.matching_model, relationship.paused):
            request = Request.of(relationship, self.get_mentee(relationship.mentee_id))
            best = next(iter(self.matchmaking.ranked(scheme, request, 1)), None)
        step = policy.after_refusal(
            scheme.matching_model,
            paused=relationship.paused,
            refusals=len(relationship.declined_mentor_ids),
            hybrid_k=scheme.matching["hybrid_k"],
            candidate_left=best is not None,
        )
        if step == NextStep.TELL_COORDINATOR:
            policy.tell_coordinator(relationship, actor)
        elif step == NextStep.INVITE_NEXT_CANDIDATE:
            assert best is not None
            return self._invite(relationship, scheme, best.mentor_id, actor, MatchBasis.RANKED)
        return ()

    # Life of a pair -----------------------------------------------------------

    def log_meeting(
        self,
        relationship_id: UUID,
        held_on: date,
        mode: str,
        duration_minutes: int,
        actor: Actor,
        *,
        admit: Admit | None = None,
    ) -> Saved[Relationship]:
        relationship = self._relationship(relationship_id, admit)
        scheme = self.read_scheme(relationship.scheme_id)
        relationship.log_meeting(
            held_on=held_on,
            mode=mode,
            duration_minutes=duration_minutes,
            planned_duration=scheme.timers["planned_duration"],
            today=datetime.now(UTC).date(),
            actor=actor,
        )
        return Saved(relationship, self._save(relationship))

    def record_agreement(
        self,
        relationship_id: UUID,
        meeting_frequency: str,
        ground_rules_agreed: bool,
        confidentiality_agreed: bool,
        actor: Actor,
        *,
        admit: Admit | None = None,
    ) -> Saved[Relationship]:
        relationship = self._relationship(relationship_id, admit)
        relationship.record_agreement(
            meeting_frequency, ground_rules_agreed, confidentiality_agreed, actor
        )
        return Saved(relationship, self._save(relationship))

    def pause(
        self,
        relationship_id: UUID,
        reason_category: str,
        until: date | None,
        actor: Actor,
        *,
        admit: Admit | None = None,
    ) -> Saved[Relationship]:
        relationship = self._relationship(relationship_id, admit)
        relationship.pause(reason_category, until, datetime.now(UTC).date(), actor)
        return Saved(relationship, self._save(relationship))

    def resume(
        self, relationship_id: UUID, actor: Actor, *, admit: Admit | None = None
    ) -> Saved[Relationship]:
        relationship = self._relationship(relationship_id, admit)
        relationship.resume(actor)
        return Saved(relationship, self._save(relationship))

    def extend(
        self, relationship_id: UUID, until: datetime, actor: Actor, *, admit: Admit | None = None
    ) -> Saved[Relationship]:
        relationship = self._relationship(relationship_id, admit)
        relationship.extend(until, actor)
        return Saved(relationship, self._save(relationship))

    def give_feedback(
        self,
        relationship_id: UUID,
        stage: str,
        respondent: str,
        answers: dict[str, Any],
        actor: Actor,
        *,
        admit: Admit | None = None,
    ) -> Saved[Relationship]:
        relationship = self._relationship(relationship_id, admit)
        scheme = self.read_scheme(relationship.scheme_id)
        relationship.give_feedback(stage, respondent, answers, scheme.survey, actor)
        return Saved(relationship, self._save(relationship))

    def check_pairing(
        self, relationship_id: UUID, party: str, working: bool, actor: Actor
    ) -> Saved[Relationship]:
        """A party's private answer to "Is this pairing working for you?"."""
        relationship = self.get_relationship(relationship_id)
        relationship.check_pairing(party, working, actor)
        return Saved(relationship, self._save(relationship))

    # Ending and rematch -------------------------------------------------------

    def end(
        self,
        relationship_id: UUID,
        kind: str,
        reason_category: str | None,
        actor: Actor,
        *,
        admit: Admit | None = None,
    ) -> Saved[Relationship]:
        """End the pair: the mentor's place is freed and the mentee may ask again."""
        relationship = self._relationship(relationship_id, admit)
        relationship.end(kind, reason_category, actor)
        touched = self._after_ending(relationship, actor)
        return Saved(relationship, self._save(relationship, *touched))

    def _after_ending(self, relationship: Relationship, actor: Actor) -> tuple[Aggregate, ...]:
        """Free the mentor's place and close the mentee's request of a relationship
        just ended, unsaved; the mentee and mentor touched."""
        mentee = self.get_mentee(relationship.mentee_id)
        mentee.close_request(relationship.id, actor)
        if relationship.mentor_id is None:
            return (mentee,)
        mentor = self.get_mentor(relationship.mentor_id)
        mentor.release_place(relationship.id, actor)
        return mentee, mentor

    def ask_for_rematch(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        """The mentee of an ended pairing asks the coordinator for a new mentor."""
        relationship = self.get_relationship(relationship_id)
        relationship.ask_for_rematch(actor)
        return Saved(relationship, self._save(relationship))

    # Leavers -----------------------------------------------------------------

    def mentor_leaves(self, mentor_id: UUID, actor: Actor) -> Saved[Mentor]:
        """The mentor has left the scheme, in one write: each pair of theirs ends
        `withdrawn` (its place released, the mentee free to ask again), each
        invitation awaiting their answer is withdrawn (back to requested, for another
        mentor), and they are no longer available. Raises LeftScheme the second time."""
        mentor = self.get_mentor(mentor_id)
        mentor.leave(actor)
        touched: list[Aggregate] = [mentor]
        for relationship_id in list(mentor.relationship_ids):
            relationship = self.get_relationship(relationship_id)
            mentee = self.get_mentee(relationship.mentee_id)
            self._withdraw(relationship, mentor, mentee, actor)
            touched += [relationship, mentee]
        for relationship_id in self.matchmaking.invitations_to(mentor_id):
            relationship = self.get_relationship(relationship_id)
            if relationship.state == State.MENTOR_INVITED and relationship.mentor_id == mentor_id:
                relationship.withdraw_invitation(LEFT_SCHEME, actor)
                touched.append(relationship)
        return Saved(mentor, self._save(*touched))

    def mentee_leaves(self, mentee_id: UUID, actor: Actor) -> Saved[Mentee]:
        """The mentee has left the scheme, in one write: their open relationship ends
        `withdrawn` (the mentor's place released). Raises LeftScheme the second time."""
        mentee = self.get_mentee(mentee_id)
        mentee.leave(actor)
        touched: list[Aggregate] = [mentee]
        if mentee.open_relationship_id is not None:
            relationship = self.get_relationship(mentee.open_relationship_id)
            mentor = (
                None if relationship.mentor_id is None else self.get_mentor(relationship.mentor_id)
            )
            self._withdraw(relationship, mentor, mentee, actor)
            touched += [relationship] if mentor is None else [relationship, mentor]
        return Saved(mentee, self._save(*touched))

    @staticmethod
    def _withdraw(
        relationship: Relationship, mentor: Mentor | None, mentee: Mentee, actor: Actor
    ) -> None:
        """End an open relationship `withdrawn` because one of the pair left, unsaved."""
        relationship.end(EndKind.WITHDRAWN, LEFT_SCHEME, actor)
        mentee.close_request(relationship.id, actor)
        if mentor is not None:
            mentor.release_place(relationship.id, actor)

    def rematch(
        self, relationship_id: UUID, actor: Actor, *, admit: Admit | None = None
    ) -> Saved[Relationship]:
        """Open a new request for the same mentee; previous mentors stay excluded.
        Returns the new relationship."""
        old = self._relationship(relationship_id, admit)
        mentee = self.get_mentee(old.mentee_id)
        new = Relationship(
            scheme_id=old.scheme_id,
            mentee_id=old.mentee_id,
            preferred_mentor_ids=[],
            rematch_of=old.id,
            actor=actor,
        )
        old.rematch(new.id, actor)
        mentee.open_request(new.id, actor)
        return Saved(new, self._save(old, new, mentee))

    # What timers cause (called by workflow activities) --------------------------

    def flag_stalled(self, relationship_id: UUID, timer: str, basis: datetime) -> Outcome:
        """The timer (match_within, first_meeting_within or meeting_cadence) that
        counted from `basis` has fired: flag its stall (domain.consequences)."""
        return self._on_timer(
            relationship_id, lambda r, _: consequences.flag_stalled(r, timer, basis)
        )

    def lapse_invitation(self, relationship_id: UUID, basis: datetime) -> Outcome:
        """The mentor invited at `basis` did not answer in time: the invitation
        lapses, and the matching model's policy takes the next step in the same
        write (domain.policy)."""
        return self._on_timer(
            relationship_id,
            lambda r, _: consequences.lapse_invitation(r, basis),
            lambda r, scheme: self._after_refusal(
                r, scheme, Actor.system("mentor_response_within")
            ),
        )

    def notify_pick_overdue(self, relationship_id: UUID, basis: datetime) -> Outcome:
        """The hybrid mentee, waiting since `basis`, has not picked a mentor within
        the scheme's matching `pick_within`: the coordinator is told (flagged
        `unmatched` and escalated) and may invite directly."""
        return self._on_timer(
            relationship_id,
            lambda r, scheme: consequences.notify_pick_overdue(r, basis, scheme.matching_model),
        )

    def escalate(self, relationship_id: UUID, basis: datetime) -> Outcome:
        """The stall flagged at `basis` has lasted escalate_after: escalate it."""
        return self._on_timer(relationship_id, lambda r, _: consequences.escalate(r, basis))

    def mark_midpoint_due(self, relationship_id: UUID, basis: datetime) -> Outcome:
        """Halfway from the first meeting (`basis`) to the planned end."""
        return self._on_timer(
            relationship_id, lambda r, _: consequences.mark_midpoint_due(r, basis)
        )

    def mark_end_due(self, relationship_id: UUID, basis: datetime) -> Outcome:
        """The planned end (`basis`) has come: end-of-scheme feedback is due."""
        return self._on_timer(relationship_id, lambda r, _: consequences.mark_end_due(r, basis))

    def complete(self, relationship_id: UUID, basis: datetime) -> Outcome:
        """The planned end (`basis`) has come and was not extended: the pair
        completes, the mentor's place is freed and the mentee's request closed."""
        return self._on_timer(
            relationship_id,
            lambda r, _: consequences.complete(r, basis),
            lambda r, _: self._after_ending(r, Actor.system("planned_end")),
        )

    def _on_timer(
        self,
        relationship_id: UUID,
        decide: Callable[[Relationship, Scheme], Outcome],
        then: Callable[[Relationship, Scheme], tuple[Aggregate, ...]] | None = None,
    ) -> Outcome:
        """Guard and act on one read: read the relationship, let `decide` check the
        fact the timer counted from and record the consequence on that instance,
        let `then` touch other aggregates, and save it all in one write. When the
        relationship was saved by someone else meanwhile (a meeting was logged), the
        write conflicts and the decision is made again on what they saved.

        Raises Conflict when it keeps conflicting, and NotFound for an unknown id."""
        for _ in range(TIMER_ATTEMPTS):
            relationship = self.get_relationship(relationship_id)
            scheme = self.get_scheme(relationship.scheme_id)
            outcome = decide(relationship, scheme)
            if not relationship.pending_events:
                return outcome
            touched = then(relationship, scheme) if then else ()
            try:
                self._save(relationship, *touched)
            except Conflict:
                continue
            return outcome
        raise Conflict(f"relationship {relationship_id} kept changing while a timer fired")


def implied_basis(actor: Actor, scheme: Scheme) -> MatchBasis:
    """On what basis an actor invites: staff by their own choice; a mentee from the
    proposals in a hybrid scheme, else by their own choice."""
    if actor.role in STAFF_ROLES:
        return MatchBasis.COORDINATOR
    if scheme.matching_model == MatchingModel.HYBRID:
        return MatchBasis.RANKED
    return MatchBasis.MENTEE_CHOICE
