"""What each timer's command decides, on the relationship it has read (domain.timers).

Each function checks that the fact the timer counted from (`basis`) still holds and
then records the consequence on that same relationship, so that the caller saves
the decision with the version it was made on: a meeting saved meanwhile makes the
save conflict instead of being overlooked. Each answers RECORDED when the
consequence is recorded, by this call or an earlier one (a retry changes nothing),
UNCHANGED when the fact has moved on, and PAUSED when the pair is paused.
"""

from datetime import datetime

from domain.actors import Actor
from domain.policy import tell_coordinator
from domain.relationship import Relationship
from domain.timers import STALL_STATES, TIMER, Outcome
from domain.vocabulary import EndKind, MatchingModel, StallReason, State


def counted_from(relationship: Relationship, timer: str) -> datetime | None:
    """The recorded fact the timer counts from, as the relationship holds it now."""
    fact: datetime | None = getattr(relationship, TIMER[timer].counts_from)
    return fact


def flag_stalled(relationship: Relationship, timer: str, basis: datetime) -> Outcome:
    """Flag the stall the timer stands for (`unmatched`, `no_first_meeting`,
    `meeting_overdue`), unless the relationship has moved on or is stalled already."""
    reason = TIMER[timer].stall
    assert reason is not None, f"{timer} flags no stall"
    if relationship.stalled and relationship.stall_reason == reason:
        return Outcome.RECORDED
    if relationship.state not in STALL_STATES[reason] or counted_from(relationship, timer) != basis:
        return Outcome.UNCHANGED
    if relationship.paused:
        return Outcome.PAUSED
    if relationship.stalled:
        return Outcome.UNCHANGED
    relationship.flag_stalled(reason, Actor.system(timer))
    return Outcome.RECORDED


def lapse_invitation(relationship: Relationship, basis: datetime) -> Outcome:
    """The mentor invited at `basis` did not answer: back to requested, flagged
    `mentor_no_response` unless stalled already."""
    if relationship.lapsed_invitation_sent_at == basis:
        return Outcome.RECORDED
    if relationship.state != State.MENTOR_INVITED or relationship.invited_at != basis:
        return Outcome.UNCHANGED
    if relationship.paused:
        return Outcome.PAUSED
    actor = Actor.system("mentor_response_within")
    relationship.lapse_invitation(actor)
    if not relationship.stalled:
        relationship.flag_stalled(StallReason.MENTOR_NO_RESPONSE, actor)
    return Outcome.RECORDED


def notify_pick_overdue(
    relationship: Relationship, basis: datetime, matching_model: str
) -> Outcome:
    """The hybrid mentee, waiting for a mentor since `basis`, has not picked one of
    the proposals in time: the coordinator is told (tell_coordinator)."""
    if matching_model != MatchingModel.HYBRID or relationship.state != State.REQUESTED:
        return Outcome.UNCHANGED
    if relationship.requested_since != basis:
        return Outcome.UNCHANGED
    if relationship.paused:
        return Outcome.PAUSED
    tell_coordinator(relationship, Actor.system("pick_within"))
    return Outcome.RECORDED


def escalate(relationship: Relationship, basis: datetime) -> Outcome:
    """Escalate the stall flagged at `basis` to the scheme coordinator."""
    if not relationship.stalled or relationship.stalled_since != basis:
        return Outcome.UNCHANGED
    if relationship.escalated:
        return Outcome.RECORDED
    if relationship.paused:
        return Outcome.PAUSED
    relationship.escalate(Actor.system("escalate_after"))
    return Outcome.RECORDED


def mark_midpoint_due(relationship: Relationship, basis: datetime) -> Outcome:
    """The midpoint check-in of the pair that first met at `basis` is due."""
    if relationship.state != State.ACTIVE or relationship.first_meeting_at != basis:
        return Outcome.UNCHANGED
    if relationship.midpoint_due:
        return Outcome.RECORDED
    if relationship.paused:
        return Outcome.PAUSED
    relationship.mark_midpoint_due(Actor.system("midpoint"))
    return Outcome.RECORDED


def mark_end_due(relationship: Relationship, basis: datetime) -> Outcome:
    """End-of-scheme feedback is due, unless the planned end (`basis`) was extended."""
    if _completed_at(relationship, basis):
        return Outcome.RECORDED
    if relationship.state != State.ACTIVE or relationship.planned_end != basis:
        return Outcome.UNCHANGED
    if relationship.end_due:
        return Outcome.RECORDED
    if relationship.paused:
        return Outcome.PAUSED
    relationship.mark_end_due(Actor.system("planned_end"))
    return Outcome.RECORDED


def complete(relationship: Relationship, basis: datetime) -> Outcome:
    """The planned end (`basis`) has come and was not extended: the pair completes.
    The caller frees the mentor's place and closes the mentee's request."""
    if _completed_at(relationship, basis):
        return Outcome.RECORDED
    if relationship.state != State.ACTIVE or relationship.planned_end != basis:
        return Outcome.UNCHANGED
    if relationship.paused:
        return Outcome.PAUSED
    relationship.end(EndKind.COMPLETED, None, Actor.system("planned_end"))
    return Outcome.RECORDED


def _completed_at(relationship: Relationship, planned_end: datetime) -> bool:
    return (
        relationship.state in (State.ENDED, State.REMATCHED)
        and relationship.end_kind == EndKind.COMPLETED
        and relationship.planned_end == planned_end
    )
