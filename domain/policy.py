"""The matching models' policy: what happens after a mentor declines an invitation
or lets it lapse (DESIGN.md "Timers" and "Aggregates and lifecycle").

- `assigned`: the service invites the next best candidate; with none left the
  request waits for the coordinator.
- `hybrid`: the same, until as many mentors as the scheme proposes (`hybrid_k`)
  have declined or let it lapse, or no candidate is left: then the coordinator is
  told (flagged `unmatched` and escalated) and may invite a mentor directly.
- `mentee_choice`: back to the mentee, who chooses again.

A paused request is left alone, as a cohort run leaves it out.
"""

from enum import StrEnum

from domain.actors import Actor
from domain.relationship import Relationship
from domain.vocabulary import MatchingModel, StallReason


class NextStep(StrEnum):
    INVITE_NEXT_CANDIDATE = "invite_next_candidate"
    TELL_COORDINATOR = "tell_coordinator"
    WAIT_FOR_COORDINATOR = "wait_for_coordinator"
    MENTEE_CHOOSES_AGAIN = "mentee_chooses_again"
    WAIT_FOR_RESUME = "wait_for_resume"


def looks_for_candidates(matching_model: str, paused: bool) -> bool:
    """Whether after_refusal needs to know if a candidate is left."""
    return matching_model != MatchingModel.MENTEE_CHOICE and not paused


def after_refusal(
    matching_model: str, *, paused: bool, refusals: int, hybrid_k: int, candidate_left: bool
) -> NextStep:
    """The next step for a request back in `requested` after its invited mentor
    declined or did not answer. `refusals` counts the mentors who have declined this
    request or let it lapse; `candidate_left` whether an eligible mentor remains
    (asked only when looks_for_candidates)."""
    model = MatchingModel(matching_model)
    if model == MatchingModel.MENTEE_CHOICE:
        return NextStep.MENTEE_CHOOSES_AGAIN
    if paused:
        return NextStep.WAIT_FOR_RESUME
    if model == MatchingModel.HYBRID and (refusals >= hybrid_k or not candidate_left):
        return NextStep.TELL_COORDINATOR
    if not candidate_left:
        return NextStep.WAIT_FOR_COORDINATOR
    return NextStep.INVITE_NEXT_CANDIDATE


def tell_coordinator(relationship: Relationship, actor: Actor) -> None:
    """Bring a request waiting for a mentor to the coordinator, who may then invite
    one directly: flagged stalled (`unmatched` unless stalled already) and escalated
    (unless escalated already). Nothing while paused."""
    if relationship.paused:
        return
    if not relationship.stalled:
        relationship.flag_stalled(StallReason.UNMATCHED, actor)
    if not relationship.escalated:
        relationship.escalate(actor)
