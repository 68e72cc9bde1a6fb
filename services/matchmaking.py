"""Matchmaking: the mentors who could take a request, and cohort runs, read from
the Mentoring application's event store and decided by domain.matching and
domain.cohort. It records nothing itself: a cohort run invites through the
application, so there is one application and one notification log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from domain.actors import Actor
from domain.cohort import assign_cohort
from domain.errors import DomainError, NotEligible, NotFound, TransitionRefused
from domain.matching import Candidate, MatchBasis, Request, rank_candidates
from domain.matching import rationale as rationale_of
from domain.people import Mentor
from domain.relationship import Relationship
from domain.scheme import Scheme
from domain.vocabulary import State
from services.errors import Conflict
from services.invitations import InvitationsAwaitingAnswer
from services.mentor_roster import MentorRoster

if TYPE_CHECKING:
    from services.application import Mentoring

CHANGED_MEANWHILE = "the proposal changed since it was made; run the matching again"


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


class Matchmaking:
    """Candidates and cohort runs for one Mentoring application."""

    def __init__(self, mentoring: Mentoring) -> None:
        self._mentoring = mentoring
        self._awaiting = InvitationsAwaitingAnswer()
        self._roster = MentorRoster()

    def mentors_of(self, scheme_id: UUID) -> list[Mentor]:
        """The scheme's mentors now, in the order they registered (shared: read only)."""
        return self._roster.of_scheme(self._mentoring, scheme_id)

    def places_held(self) -> Counter[UUID]:
        """Per mentor, the invitations awaiting their answer."""
        return self._awaiting.places_held(self._mentoring)

    def invitations_to(self, mentor_id: UUID) -> list[UUID]:
        """The relationships whose invitation awaits this mentor's answer."""
        return self._awaiting.awaiting(self._mentoring, mentor_id)

    def candidates(self, relationship_id: UUID, limit: int | None = None) -> list[Candidate]:
        """The eligible mentors for a request, best first (at most `limit`), each with
        its score and reasons; a place held by an invitation awaiting an answer is not
        free. Raises TransitionRefused unless the relationship is requested."""
        app = self._mentoring
        relationship = app.get_relationship(relationship_id)
        if relationship.state != State.REQUESTED:
            raise TransitionRefused("list candidates", relationship.state)
        scheme = app.get_scheme(relationship.scheme_id)
        request = Request.of(relationship, app.get_mentee(relationship.mentee_id))
        return self.ranked(scheme, request, limit)

    def proposals(self, relationship_id: UUID) -> list[Candidate]:
        """What the hybrid model offers the mentee: the scheme's hybrid_k best candidates."""
        app = self._mentoring
        scheme = app.get_scheme(app.get_relationship(relationship_id).scheme_id)
        return self.candidates(relationship_id, scheme.matching["hybrid_k"])

    def ranked(self, scheme: Scheme, request: Request, limit: int | None) -> list[Candidate]:
        """The scheme's eligible mentors for a request, best first (domain.matching)."""
        mentors = self.mentors_of(scheme.id)
        held = self.places_held()
        return rank_candidates(
            scheme, request, mentors, settings=scheme.matching, places_held=held, limit=limit
        )

    def match_cohort(
        self,
        scheme_id: UUID,
        dry_run: bool,
        actor: Actor,
        cohort: str | None = None,
        chosen: Collection[tuple[UUID, UUID]] | None = None,
    ) -> CohortRun:
        """Pair every request of the scheme waiting for a mentor at once: as many as
        the mentors' free places allow (places held by invitations are not free),
        then the highest total score (domain.cohort). Unless `dry_run`, invite each
        proposal, one save each; a proposal that fails because something changed
        meanwhile joins the unmatched with its reason. A paused request is left out.

        `cohort` limits the run to the requests of that cohort's mentees. `chosen`
        (relationship id, mentor id) limits the invitations to those proposals (a
        coordinator's pick from a dry run): a chosen pair no longer proposed joins
        the unmatched, a proposal not chosen is left out."""
        app = self._mentoring
        scheme = app.get_scheme(scheme_id)
        waiting = [
            r
            for _, r in app.all_of(Relationship)
            if r.scheme_id == scheme_id and r.state == State.REQUESTED
        ]
        mentees = {r.id: app.get_mentee(r.mentee_id) for r in waiting}
        if cohort is not None:
            waiting = [r for r in waiting if mentees[r.id].cohort == cohort]
        requests = [Request.of(r, mentees[r.id]) for r in waiting if not r.paused]
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
        pairings = assignment.pairings
        if chosen is not None:
            wanted = set(chosen)
            pairings = tuple(
                p
                for p in pairings
                if (_relationship_id(p.request), p.candidate.mentor_id) in wanted
            )
            proposed = {(_relationship_id(p.request), p.candidate.mentor_id) for p in pairings}
            unmatched += (
                Unpaired(relationship_id, "changed_meanwhile", CHANGED_MEANWHILE)
                for relationship_id, _ in sorted(wanted - proposed)
            )
        for pairing in pairings:
            proposal = Proposal(_relationship_id(pairing.request), pairing.candidate)
            refusal = None if dry_run else self._invite(scheme, proposal, actor)
            if refusal is None:
                proposals.append(proposal)
            else:
                unmatched.append(refusal)
        return CohortRun(tuple(proposals), tuple(unmatched), dry_run)

    def _invite(self, scheme: Scheme, proposal: Proposal, actor: Actor) -> Unpaired | None:
        """Invite a cohort run's proposal; None, or why it could not be invited."""
        mentor_id = proposal.candidate.mentor_id
        why = rationale_of(proposal.candidate, scheme.matching, MatchBasis.COHORT)
        try:
            self._mentoring.invite_mentor(
                proposal.relationship_id, mentor_id, actor, why, MatchBasis.COHORT
            )
        except (DomainError, Conflict, NotFound) as error:
            reason = error.reason if isinstance(error, NotEligible) else "changed_meanwhile"
            return Unpaired(proposal.relationship_id, reason, str(error))
        return None


def _relationship_id(request: Request) -> UUID:
    assert request.relationship_id is not None, "the application's requests come from relationships"
    return request.relationship_id
