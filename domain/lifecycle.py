"""The Relationship events that make up its lifecycle, for the processes that follow
it: the workflow's clock (through the relay) and the reports of state over time."""

from domain.relationship import Relationship

RelationshipEvent = type[Relationship.Event]

# The events that change a relationship's state, its stall flag or its mentor.
STATE_EVENTS: tuple[RelationshipEvent, ...] = (
    Relationship.Requested,
    Relationship.MentorInvited,
    Relationship.Matched,
    Relationship.InvitationAccepted,
    Relationship.InvitationDeclined,
    Relationship.InvitationLapsed,
    Relationship.InvitationWithdrawn,
    Relationship.MeetingLogged,
    Relationship.StallFlagged,
    Relationship.StallCleared,
    Relationship.Escalated,
    Relationship.Ended,
    Relationship.Rematched,
)

# The events that start, stop, suspend or re-arm a relationship's timers: those
# above, and the pause, resumption and extension that move its deadlines.
LIFECYCLE_EVENTS: tuple[RelationshipEvent, ...] = (
    *STATE_EVENTS,
    Relationship.Paused,
    Relationship.Resumed,
    Relationship.Extended,
)
