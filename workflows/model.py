"""What crosses the Temporal boundary: the signal the relay sends, the activities'
arguments and results, and the answers to queries.

Ids, versions, instants and names only: never a person's name, email or profile,
because Temporal keeps every payload in its history.
"""

from dataclasses import dataclass
from datetime import datetime

TASK_QUEUE = "relationships"
WORKFLOW_NAME = "RelationshipWorkflow"
RECORD_SIGNAL = "record"

# Activity names beside the timers' commands (domain.timers): the workflow calls
# activities by name so that it never imports the application (which is not
# deterministic code).
READ_SCHEME_TIMERS = "read_scheme_timers"
NOTIFY = "notify"
# Activity of workflows that lapsed an invitation before the lapse command invited
# the next candidate itself; kept so that their histories replay.
INVITE_NEXT_CANDIDATE = "invite_next_candidate"
LAPSE_INVITES_NEXT_CANDIDATE = "lapse-invites-next-candidate"
# Workflows run their activities as local activities (in the workflow task that
# needs them, with no activity task on the server) from this patch on; histories
# recorded before it replay with the activity tasks they had.
LOCAL_ACTIVITIES = "local-activities"


@dataclass(frozen=True)
class LifecycleEvent:
    """One recorded event of a relationship, as the relay delivers it. `planned_end`
    is set on the first meeting (when the planned end is fixed) and on an extension."""

    relationship_id: str
    version: int
    name: str
    occurred_at: datetime
    planned_end: datetime | None = None


@dataclass(frozen=True)
class SchemeTimers:
    """The scheme's timer settings in seconds, by setting name (domain.timers.SETTINGS;
    a workflow started before a setting existed lacks it), its matching model, and
    whether the relationship is still open when its workflow starts."""

    durations: dict[str, float]
    matching_model: str
    relationship_open: bool


@dataclass(frozen=True)
class TimerDue:
    """A timer has fired. `basis` is the recorded fact it counted from (the
    invitation, the match, the last meeting, the stall, the planned end), so the
    activity can tell whether that fact still holds."""

    relationship_id: str
    timer: str
    basis: datetime


@dataclass(frozen=True)
class Notice:
    """A notification for the outbox: who should hear (`coordinator` or `pair`),
    what about, and a key that makes recording it twice a no-op."""

    relationship_id: str
    audience: str
    kind: str
    key: str


@dataclass(frozen=True)
class TimerView:
    """A timer as a query shows it: when it fires, or how long it has left while paused."""

    name: str
    fires_at: datetime | None
    paused: bool
    remaining_seconds: float | None


@dataclass(frozen=True)
class Progress:
    """How far the workflow has followed its relationship: the last version applied,
    how many events it applied, and the state they left it in."""

    version: int
    applied: int
    state: str
