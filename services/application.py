"""The mentoring application: thin get -> command -> save methods over the aggregates.

Every command returns what it saved and the notification position of its last
event, so a reader can wait for projections to reach it (read-your-writes).
Commands that touch several aggregates save them in one atomic write: capacity
and the one-open-request rule cannot be broken by two people at once.
"""

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, AggregateEvent, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder
from eventsourcing.utils import get_topic

from domain.actors import Actor
from domain.cohort import assign_cohort
from domain.errors import DomainError, InvalidValue, NotEligible, TransitionRefused
from domain.matching import (
    Candidate,
    MatchBasis,
    Request,
    exclusions,
    rank_candidates,
    score_candidate,
)
from domain.matching import rationale as rationale_of
from domain.people import Mentee, Mentor
from domain.relationship import Relationship
from domain.scheme import Scheme
from domain.vocabulary import MatchingModel, State
from services.errors import Conflict, NotFound
from services.invitations import InvitationsAwaitingAnswer
from services.transcodings import ActorAsDict, DateAsISO

A = TypeVar("A", bound=Aggregate)

# The event that creates each kind of aggregate.
CREATED_EVENT: dict[type[Aggregate], type[Aggregate.Event]] = {
    Scheme: Scheme.Created,
    Mentor: Mentor.Registered,
    Mentee: Mentee.Registered,
    Relationship: Relationship.Requested,
}


@dataclass(frozen=True)
class Saved(Generic[A]):
    """An aggregate as saved, and the notification id of its last new event."""

    aggregate: A
    position: int


@dataclass(frozen=True)
class Proposal:
    """A mentor proposed for a request by a cohort run (invited unless a dry run)."""

    relationship_id: UUID
    candidate: Candidate


@dataclass(frozen=True)
class Unpaired:
    """A request a cohort run left without a mentor: a stable `reason` code and a
    sentence a coordinator can read."""

    relationship_id: UUID
    reason: str
    message: str


@dataclass(frozen=True)
class CohortRun:
    proposals: tuple[Proposal, ...]
    unmatched: tuple[Unpaired, ...]
    dry_run: bool


STAFF_ROLES = frozenset({"admin", "coordinator"})


class Mentoring(Application[UUID]):
    name = "mentoring"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._awaiting = InvitationsAwaitingAnswer()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsDict())
        transcoder.register(DateAsISO())

    # Reading ------------------------------------------------------------------

    def _get(self, kind: type[A], label: str, aggregate_id: UUID, version: int | None = None) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(label, aggregate_id) from None
        if not isinstance(aggregate, kind):
            raise NotFound(label, aggregate_id)
        return aggregate

    def get_scheme(self, scheme_id: UUID) -> Scheme:
        return self._get(Scheme, "scheme", scheme_id)

    def get_mentor(self, mentor_id: UUID) -> Mentor:
        return self._get(Mentor, "mentor", mentor_id)

    def get_mentee(self, mentee_id: UUID) -> Mentee:
        return self._get(Mentee, "mentee", mentee_id)

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

    def relationship_events(self, relationship_id: UUID) -> list[DomainEventProtocol[UUID]]:
        self.get_relationship(relationship_id)
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
        scheme.assign_role(role, person, from_, actor)
        return Saved(scheme, self._save(scheme))

    # People -------------------------------------------------------------------

    def register_mentor(self, profile: dict[str, Any], actor: Actor) -> Saved[Mentor]:
        self.get_scheme(profile["scheme_id"])
        if profile["capacity"] < 0:
            raise InvalidValue("capacity must be zero or more")
        mentor = Mentor(**profile, actor=actor)
        return Saved(mentor, self._save(mentor))

    def update_mentor(
        self,
        mentor_id: UUID,
        actor: Actor,
        capacity: int | None = None,
        available: bool | None = None,
        trained_on: date | None = None,
    ) -> Saved[Mentor]:
        mentor = self.get_mentor(mentor_id)
        if capacity is not None:
            mentor.change_capacity(capacity, actor)
        if available is not None:
            mentor.set_availability(available, actor)
        if trained_on is not None:
            mentor.record_training(trained_on, actor)
        return Saved(mentor, self._save(mentor))

    def register_mentee(self, profile: dict[str, Any], actor: Actor) -> Saved[Mentee]:
        scheme = self.get_scheme(profile["scheme_id"])
        if scheme.cohorts and not scheme.has_cohort(profile["cohort"]):
            raise InvalidValue(f"the scheme has no cohort {profile['cohort']!r}")
        mentee = Mentee(**profile, actor=actor)
        return Saved(mentee, self._save(mentee))

    # Requests and matching ----------------------------------------------------

    def request_mentor(
        self,
        scheme_id: UUID,
        mentee_id: UUID,
        preferred_mentor_ids: Sequence[UUID],
        actor: Actor,
    ) -> Saved[Relationship]:
        """Open a request; a mentee holds at most one open request (DomainError)."""
        mentee = self.get_mentee(mentee_id)
        if mentee.scheme_id != scheme_id:
            raise InvalidValue("the mentee is not in this scheme")
        for mentor_id in preferred_mentor_ids:
            try:
                preferred = self.get_mentor(mentor_id)
            except NotFound:
                raise InvalidValue(f"preferred mentor {mentor_id} does not exist") from None
            if preferred.scheme_id != scheme_id:
                raise InvalidValue(f"preferred mentor {mentor_id} is not in this scheme")
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
    ) -> Saved[Relationship]:
        """Invite an eligible mentor; when the scheme needs no acceptance the pair is
        matched at once and the mentor's place taken. The invitation records why
        (`rationale`, else this pair's score, on the basis the actor implies).

        Staff may invite a mentor whose free places are all held by invitations
        awaiting an answer (the first acceptance wins: respond_to_invitation). A
        mentee may not, and in a hybrid scheme picks one of the `proposals`.
        Raises NotEligible with the reason.
        """
        relationship = self.get_relationship(relationship_id)
        scheme = self.get_scheme(relationship.scheme_id)
        if actor.role in STAFF_ROLES:
            basis = MatchBasis.COORDINATOR
        elif scheme.matching_model == MatchingModel.HYBRID:
            basis = MatchBasis.RANKED
        else:
            basis = MatchBasis.MENTEE_CHOICE
        return self._invite(relationship, scheme, mentor_id, actor, basis, rationale)

    def _invite(
        self,
        relationship: Relationship,
        scheme: Scheme,
        mentor_id: UUID,
        actor: Actor,
        basis: MatchBasis,
        rationale: dict[str, Any] | None = None,
    ) -> Saved[Relationship]:
        """Check, record why, invite, save. Places held by invitations count unless
        a coordinator chose; a RANKED choice must be one of the proposals."""
        mentee = self.get_mentee(relationship.mentee_id)
        mentor = self.get_mentor(mentor_id)
        held = 0 if basis == MatchBasis.COORDINATOR else self.places_held()[mentor_id]
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
            proposed = self._ranked(scheme, request, scheme.matching["hybrid_k"])
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
        return Saved(relationship, self._save(relationship, mentor, mentee))

    def respond_to_invitation(
        self, relationship_id: UUID, accept: bool, actor: Actor
    ) -> Saved[Relationship]:
        """Accept or decline. When two acceptances race for a mentor's last place,
        one wins; the other's invitation is withdrawn (back to requested) and it
        raises NotEligible("no_capacity"). In a hybrid scheme, once as many mentors
        as the scheme proposes have declined a request, or no candidate is left, the
        coordinator is told (flagged `unmatched` and escalated)."""
        if not accept:
            relationship = self.get_relationship(relationship_id)
            relationship.decline(actor)
            scheme = self.get_scheme(relationship.scheme_id)
            if scheme.matching_model == MatchingModel.HYBRID and self._picks_exhausted(
                relationship, scheme
            ):
                self._tell_coordinator(relationship, Actor.system("hybrid_picks_declined"))
            return Saved(relationship, self._save(relationship))
        try:
            return self._accept(relationship_id, actor)
        except Conflict:
            return self._accept(relationship_id, actor)  # re-read: did we lose the place?

    def _accept(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
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

    def lapse_invitation(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        """The invited mentor did not answer in time: back to requested, flagged."""
        relationship = self.get_relationship(relationship_id)
        relationship.lapse_invitation(actor)
        if not relationship.stalled and not relationship.paused:
            relationship.flag_stalled("mentor_no_response", actor)
        return Saved(relationship, self._save(relationship))

    # Candidates and cohorts ---------------------------------------------------

    def mentors_of(self, scheme_id: UUID) -> list[Mentor]:
        return [mentor for _, mentor in self.all_of(Mentor) if mentor.scheme_id == scheme_id]

    def places_held(self) -> Counter[UUID]:
        """Per mentor, the invitations awaiting their answer."""
        return self._awaiting.places_held(self)

    def candidates(self, relationship_id: UUID, limit: int | None = None) -> list[Candidate]:
        """The eligible mentors for a request, best first (at most `limit`), each with
        its score and reasons; a place held by an invitation awaiting an answer is not
        free. Raises TransitionRefused unless the relationship is requested."""
        relationship = self.get_relationship(relationship_id)
        if relationship.state != State.REQUESTED:
            raise TransitionRefused("list candidates", relationship.state)
        scheme = self.get_scheme(relationship.scheme_id)
        request = Request.of(relationship, self.get_mentee(relationship.mentee_id))
        return self._ranked(scheme, request, limit)

    def proposals(self, relationship_id: UUID) -> list[Candidate]:
        """What the hybrid model offers the mentee: the scheme's hybrid_k best candidates."""
        scheme = self.get_scheme(self.get_relationship(relationship_id).scheme_id)
        return self.candidates(relationship_id, scheme.matching["hybrid_k"])

    def _ranked(self, scheme: Scheme, request: Request, limit: int | None) -> list[Candidate]:
        mentors = self.mentors_of(scheme.id)
        held = self.places_held()
        return rank_candidates(
            scheme, request, mentors, settings=scheme.matching, places_held=held, limit=limit
        )

    def match_cohort(self, scheme_id: UUID, dry_run: bool, actor: Actor) -> CohortRun:
        """Pair every request of the scheme waiting for a mentor at once: as many as
        the mentors' free places allow (places held by invitations are not free),
        then the highest total score (domain.cohort). Unless `dry_run`, invite each
        proposal, one save each; a proposal that fails because something changed
        meanwhile joins the unmatched with its reason. A paused request is left out."""
        scheme = self.get_scheme(scheme_id)
        waiting = [
            r
            for _, r in self.all_of(Relationship)
            if r.scheme_id == scheme_id and r.state == State.REQUESTED
        ]
        requests = [Request.of(r, self.get_mentee(r.mentee_id)) for r in waiting if not r.paused]
        assignment = assign_cohort(
            scheme,
            requests,
            self.mentors_of(scheme_id),
            settings=scheme.matching,
            places_held=self.places_held(),
        )
        unmatched = [Unpaired(r.id, "paused", "the request is paused") for r in waiting if r.paused]
        unmatched += (
            Unpaired(_relationship_id(left.request), left.reason, left.message)
            for left in assignment.unmatched
        )
        proposals = []
        for pairing in assignment.pairings:
            proposal = Proposal(_relationship_id(pairing.request), pairing.candidate)
            refusal = None if dry_run else self._invite_proposal(scheme, proposal, actor)
            if refusal is None:
                proposals.append(proposal)
            else:
                unmatched.append(refusal)
        return CohortRun(tuple(proposals), tuple(unmatched), dry_run)

    def _invite_proposal(self, scheme: Scheme, proposal: Proposal, actor: Actor) -> Unpaired | None:
        """Invite a cohort run's proposal; None, or why it could not be invited."""
        mentor_id = proposal.candidate.mentor_id
        why = rationale_of(proposal.candidate, scheme.matching, MatchBasis.COHORT)
        try:
            relationship = self.get_relationship(proposal.relationship_id)
            self._invite(relationship, scheme, mentor_id, actor, MatchBasis.COHORT, why)
        except (DomainError, Conflict, NotFound) as error:
            reason = error.reason if isinstance(error, NotEligible) else "changed_meanwhile"
            return Unpaired(proposal.relationship_id, reason, str(error))
        return None

    def invite_next_candidate(
        self, relationship_id: UUID, actor: Actor
    ) -> Saved[Relationship] | None:
        """After an invitation lapsed or was declined in an `assigned` scheme, invite
        the best-ranked candidate. None (nothing done) in the other models, where the
        mentee chooses again, when no mentor is wanted, or no candidate is left."""
        relationship = self.get_relationship(relationship_id)
        scheme = self.get_scheme(relationship.scheme_id)
        if scheme.matching_model != MatchingModel.ASSIGNED or relationship.state != State.REQUESTED:
            return None
        request = Request.of(relationship, self.get_mentee(relationship.mentee_id))
        best = self._ranked(scheme, request, 1)
        if not best:
            return None
        return self._invite(relationship, scheme, best[0].mentor_id, actor, MatchBasis.RANKED)

    def _picks_exhausted(self, relationship: Relationship, scheme: Scheme) -> bool:
        """Whether a hybrid request has been declined by as many mentors as the scheme
        proposes, or has no candidate left."""
        if len(relationship.declined_mentor_ids) >= scheme.matching["hybrid_k"]:
            return True
        request = Request.of(relationship, self.get_mentee(relationship.mentee_id))
        return not self._ranked(scheme, request, 1)

    @staticmethod
    def _tell_coordinator(relationship: Relationship, actor: Actor) -> None:
        """Flag the request stalled `unmatched` and escalate it to the coordinator, who
        may then invite a mentor directly; nothing while paused."""
        if relationship.paused:
            return
        if not relationship.stalled:
            relationship.flag_stalled("unmatched", actor)
        if not relationship.escalated:
            relationship.escalate(actor)

    # Life of a pair -----------------------------------------------------------

    def log_meeting(
        self,
        relationship_id: UUID,
        held_on: date,
        mode: str,
        duration_minutes: int,
        actor: Actor,
    ) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        scheme = self.get_scheme(relationship.scheme_id)
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
    ) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        relationship.record_agreement(
            meeting_frequency, ground_rules_agreed, confidentiality_agreed, actor
        )
        return Saved(relationship, self._save(relationship))

    def pause(
        self, relationship_id: UUID, reason_category: str, until: date | None, actor: Actor
    ) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        relationship.pause(reason_category, until, datetime.now(UTC).date(), actor)
        return Saved(relationship, self._save(relationship))

    def resume(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        relationship.resume(actor)
        return Saved(relationship, self._save(relationship))

    def extend(self, relationship_id: UUID, until: datetime, actor: Actor) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        relationship.extend(until, actor)
        return Saved(relationship, self._save(relationship))

    def give_feedback(
        self,
        relationship_id: UUID,
        stage: str,
        respondent: str,
        answers: dict[str, Any],
        actor: Actor,
    ) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        scheme = self.get_scheme(relationship.scheme_id)
        relationship.give_feedback(stage, respondent, answers, scheme.survey, actor)
        return Saved(relationship, self._save(relationship))

    # Ending and rematch -------------------------------------------------------

    def end(
        self, relationship_id: UUID, kind: str, reason_category: str | None, actor: Actor
    ) -> Saved[Relationship]:
        """End the pair: the mentor's place is freed and the mentee may ask again."""
        relationship = self.get_relationship(relationship_id)
        relationship.end(kind, reason_category, actor)
        mentee = self.get_mentee(relationship.mentee_id)
        mentee.close_request(relationship.id, actor)
        touched: list[Aggregate] = [relationship, mentee]
        if relationship.mentor_id is not None:
            mentor = self.get_mentor(relationship.mentor_id)
            mentor.release_place(relationship.id, actor)
            touched.append(mentor)
        return Saved(relationship, self._save(*touched))

    def rematch(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        """Open a new request for the same mentee; previous mentors stay excluded.
        Returns the new relationship."""
        old = self.get_relationship(relationship_id)
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

    def flag_stalled(self, relationship_id: UUID, reason: str, actor: Actor) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        relationship.flag_stalled(reason, actor)
        return Saved(relationship, self._save(relationship))

    def notify_pick_overdue(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        """The hybrid mentee has not picked a mentor within the scheme's matching
        `pick_within`: the coordinator is told (flagged `unmatched` and escalated)
        and may invite directly. Does nothing if a mentor was invited meanwhile, the
        request is paused or closed, or the scheme is not hybrid."""
        relationship = self.get_relationship(relationship_id)
        scheme = self.get_scheme(relationship.scheme_id)
        if scheme.matching_model == MatchingModel.HYBRID and relationship.state == State.REQUESTED:
            self._tell_coordinator(relationship, actor)
        return Saved(relationship, self._save(relationship))

    def escalate(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        relationship.escalate(actor)
        return Saved(relationship, self._save(relationship))

    def mark_midpoint_due(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        relationship.mark_midpoint_due(actor)
        return Saved(relationship, self._save(relationship))

    def mark_end_due(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        relationship = self.get_relationship(relationship_id)
        relationship.mark_end_due(actor)
        return Saved(relationship, self._save(relationship))

    def complete(self, relationship_id: UUID, actor: Actor) -> Saved[Relationship]:
        """The planned end has come and the pair was not extended."""
        return self.end(relationship_id, "completed", None, actor)


def _relationship_id(request: Request) -> UUID:
    assert request.relationship_id is not None, "the application's requests come from relationships"
    return request.relationship_id
