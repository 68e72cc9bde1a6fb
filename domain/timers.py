"""The relationship's timers, declared once (DESIGN.md "Timers").

Each `Timer` says which scheme settings set it, which recorded events start and
stop it, the recorded fact it counts from (an attribute of the Relationship), the
application commands it triggers when it fires, the stall it stands for and who
is told. The workflow's clock, the activities, the scheme's defaults and the API's
schema for timer settings all read this table; what each command decides is in
domain.consequences.

Events are named by the Relationship's event class names ("MentorInvited").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from domain.durations import parse_duration
from domain.vocabulary import MatchingModel, StallReason, State

if TYPE_CHECKING:
    from domain.scheme import Scheme


class Outcome(StrEnum):
    """What a timer's command found, and did, when it read the relationship."""

    RECORDED = "recorded"  # the consequence is recorded (by this call or an earlier try)
    UNCHANGED = "unchanged"  # the fact the timer counted from no longer holds: nothing to do
    PAUSED = "paused"  # paused, though the workflow has not seen the pause yet: try after it


class SettingGroup(StrEnum):
    """Where a scheme keeps a timer setting: with its timers, or its matching settings."""

    TIMERS = "timers"
    MATCHING = "matching"


@dataclass(frozen=True)
class Setting:
    """A scheme setting that sets a timer: an ISO 8601 duration with a default."""

    name: str
    default: str
    group: SettingGroup = SettingGroup.TIMERS


SETTINGS: tuple[Setting, ...] = (
    Setting("match_within", "P21D"),
    Setting("mentor_response_within", "P7D"),
    Setting("first_meeting_within", "P28D"),
    Setting("meeting_cadence", "P56D"),
    Setting("cadence_grace", "P14D"),
    Setting("escalate_after", "P14D"),
    Setting("planned_duration", "P365D"),
    Setting("pick_within", "P14D", SettingGroup.MATCHING),
)
SETTING = {setting.name: setting for setting in SETTINGS}
DEFAULT_TIMERS: dict[str, str] = {
    setting.name: setting.default for setting in SETTINGS if setting.group == SettingGroup.TIMERS
}


class Deadline(StrEnum):
    """How a timer's deadline follows from the event that starts it."""

    AFTER_SETTINGS = "after_settings"  # the event's time plus the sum of the settings
    HALFWAY_TO_PLANNED_END = "halfway_to_planned_end"  # halfway to the planned end it fixes
    AT_PLANNED_END = "at_planned_end"  # the planned end the event fixes


@dataclass(frozen=True)
class Consequence:
    """An application command a timer triggers, and the notice recorded once the
    command answers RECORDED: its audience (`coordinator` or `pair`) and kind."""

    command: str
    audience: str
    notice: str


@dataclass(frozen=True)
class Timer:
    """One timer. An event in `starts` (re)starts it, one in `stops` stops it (stops
    apply first). `counts_from` names the Relationship attribute holding the fact it
    counts from, which the workflow passes to the commands as their `basis`. The
    consequences run in order while each answers RECORDED. `models` limits the
    timer to some matching models (None: every model)."""

    name: str
    settings: tuple[str, ...]
    starts: tuple[str, ...]
    stops: tuple[str, ...]
    counts_from: str
    consequences: tuple[Consequence, ...]
    stall: StallReason | None = None
    deadline: Deadline = Deadline.AFTER_SETTINGS
    models: frozenset[MatchingModel] | None = None


BACK_TO_REQUESTED_EVENTS = ("InvitationDeclined", "InvitationLapsed", "InvitationWithdrawn")
MATCH_EVENTS = ("Matched", "InvitationAccepted")

# Timers that start on the same event and fire at the same instant fire in this order.
TIMERS: tuple[Timer, ...] = (
    Timer(
        "match_within",
        settings=("match_within",),
        starts=("Requested",),
        stops=MATCH_EVENTS,
        counts_from="requested_at",
        consequences=(Consequence("flag_stalled", "coordinator", "unmatched"),),
        stall=StallReason.UNMATCHED,
    ),
    Timer(
        "pick_within",
        settings=("pick_within",),
        starts=("Requested", *BACK_TO_REQUESTED_EVENTS),
        stops=("MentorInvited", *MATCH_EVENTS),
        counts_from="requested_since",
        consequences=(Consequence("notify_pick_overdue", "coordinator", "pick_overdue"),),
        stall=StallReason.UNMATCHED,
        models=frozenset({MatchingModel.HYBRID}),
    ),
    Timer(
        "mentor_response_within",
        settings=("mentor_response_within",),
        starts=("MentorInvited",),
        stops=(*MATCH_EVENTS, *BACK_TO_REQUESTED_EVENTS),
        counts_from="invited_at",
        consequences=(Consequence("lapse_invitation", "coordinator", "invitation_lapsed"),),
        stall=StallReason.MENTOR_NO_RESPONSE,
    ),
    Timer(
        "first_meeting_within",
        settings=("first_meeting_within",),
        starts=MATCH_EVENTS,
        stops=("MeetingLogged",),
        counts_from="matched_at",
        consequences=(Consequence("flag_stalled", "pair", "no_first_meeting"),),
        stall=StallReason.NO_FIRST_MEETING,
    ),
    Timer(
        "midpoint",
        settings=(),
        starts=("MeetingLogged",),
        stops=(),
        counts_from="first_meeting_at",
        consequences=(Consequence("mark_midpoint_due", "pair", "midpoint_check_in_due"),),
        deadline=Deadline.HALFWAY_TO_PLANNED_END,
    ),
    Timer(
        "planned_end",
        settings=(),
        starts=("MeetingLogged", "Extended"),
        stops=(),
        counts_from="planned_end",
        consequences=(
            Consequence("mark_end_due", "pair", "end_of_scheme_feedback_due"),
            Consequence("complete", "pair", "completed"),
        ),
        deadline=Deadline.AT_PLANNED_END,
    ),
    Timer(
        "meeting_cadence",
        settings=("meeting_cadence", "cadence_grace"),
        starts=("MeetingLogged",),
        stops=(),
        counts_from="last_meeting_at",
        consequences=(Consequence("flag_stalled", "pair", "meeting_overdue"),),
        stall=StallReason.MEETING_OVERDUE,
    ),
    Timer(
        "escalate_after",
        settings=("escalate_after",),
        starts=("StallFlagged",),
        stops=("StallCleared", "Escalated"),
        counts_from="stalled_since",
        consequences=(Consequence("escalate", "coordinator", "escalated"),),
    ),
)
TIMER = {timer.name: timer for timer in TIMERS}

# A pause suspends every running timer; a resume re-arms each with the time it had left.
SUSPENDED_BY = "Paused"
RESUMED_BY = "Resumed"

# Which state each stall can be flagged in.
STALL_STATES: dict[StallReason, frozenset[State]] = {
    StallReason.UNMATCHED: frozenset({State.REQUESTED, State.MENTOR_INVITED}),
    StallReason.MENTOR_NO_RESPONSE: frozenset({State.REQUESTED, State.MENTOR_INVITED}),
    StallReason.NO_FIRST_MEETING: frozenset({State.MATCHED}),
    StallReason.MEETING_OVERDUE: frozenset({State.ACTIVE}),
}


def setting_seconds(scheme: Scheme) -> dict[str, float]:
    """Every timer setting of the scheme, in seconds, by setting name."""
    values = {SettingGroup.TIMERS: scheme.timers, SettingGroup.MATCHING: scheme.matching}
    return {
        setting.name: parse_duration(values[setting.group][setting.name]).total_seconds()
        for setting in SETTINGS
    }
