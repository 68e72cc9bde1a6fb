"""A relationship's history and vocabulary in plain words, for the pages: states,
stall reasons, timers, who did something, and one sentence per event (never an
event class name, never meeting content, never a sealed field the event view has
left out).

`entries` takes the events as services.views.event_view shows them, so what a
visitor may see of each is decided there (services.access.sees_sealed).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

STATES: Mapping[str, str] = {
    "requested": "Waiting for a mentor",
    "mentor_invited": "Mentor invited",
    "matched": "Matched",
    "active": "Meeting",
    "paused": "Paused",
    "ended": "Ended",
    "rematched": "Rematched",
}
STALL_REASONS: Mapping[str, str] = {
    "unmatched": "No mentor found in time",
    "mentor_no_response": "Mentor has not answered",
    "no_first_meeting": "Not met yet",
    "meeting_overdue": "Meeting overdue",
}
TIMERS: Mapping[str, str] = {
    "match_within": "Match a mentor by",
    "pick_within": "Mentee to pick a mentor by",
    "mentor_response_within": "Mentor to answer the invitation by",
    "first_meeting_within": "First meeting by",
    "midpoint": "Midpoint review",
    "planned_end": "Planned end",
    "meeting_cadence": "Next meeting by",
    "escalate_after": "Escalate the stall to the scheme lead",
}
END_KINDS: Mapping[str, str] = {
    "no_blame": "Ended early, no blame",
    "completed": "Completed",
    "withdrawn": "Withdrawn",
}
PAUSE_REASONS: Mapping[str, str] = {
    "parental_leave": "Parental leave",
    "time_out_of_training": "Time out of training",
    "sickness": "Sickness",
    "other": "Other",
}
MEETING_MODES: Mapping[str, str] = {
    "in_person": "in person",
    "video": "by video",
    "phone": "by phone",
    "email": "by email",
    "other": "another way",
}
_ROLES: Mapping[str, str] = {
    "admin": "an administrator",
    "coordinator": "a coordinator",
    "mentor": "the mentor",
    "mentee": "the mentee",
    "auditor": "an auditor",
    "reporter": "a reporter",
}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: when, what happened, and by whom ('' if sealed)."""

    at: datetime
    what: str
    by: str


def how_long(elapsed: timedelta) -> str:
    """A duration as a person says it: '3 days', '5 hours', 'under a minute'."""
    seconds = max(int(elapsed.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "under a minute"


def day(value: date | datetime | str | None) -> str:
    """A date as the NHS writes it: '3 December 2026'."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return f"{value.day} {value:%B %Y}"


def moment(value: datetime | str) -> str:
    """A time and date: '3 December 2026 at 14:05 (UTC)'."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{day(value)} at {value:%H:%M} (UTC)"


def by_whom(actor: Mapping[str, str] | None) -> str:
    """Who did it, in words; '' when the actor is sealed."""
    if actor is None:
        return ""
    if actor["role"] == "system":
        return "automatically, when a deadline passed"
    return f"by {_ROLES.get(actor['role'], 'staff')}"


def entries(events: list[dict[str, Any]], name_of_mentor: Callable[[str], str]) -> list[Entry]:
    """The timeline of a relationship from its events (services.views.event_view),
    oldest first."""
    return [
        Entry(datetime.fromisoformat(e["at"]), what(e, name_of_mentor), by_whom(e["actor"]))
        for e in events
    ]


def what(event: dict[str, Any], name_of_mentor: Callable[[str], str]) -> str:
    """What an event says happened, in one sentence."""
    kind, d = event["type"], event["details"]
    if kind == "Requested":
        return (
            "Asked for a mentor again, after a rematch"
            if d.get("rematch_of")
            else ("Asked for a mentor")
        )
    if kind == "MentorInvited":
        return f"{name_of_mentor(d['mentor_id'])} was invited to be the mentor"
    if kind == "Matched":
        return f"Matched with {name_of_mentor(d['mentor_id'])}"
    if kind == "MeetingLogged":
        mode = MEETING_MODES.get(d["mode"], "")
        return f"Met on {day(d['held_on'])}, {mode}, for {d['duration_minutes']} minutes"
    if kind == "AgreementRecorded":
        return f"Agreed how to work together: meeting {d['meeting_frequency']}"
    if kind == "StallFlagged":
        return f"Stalled: {STALL_REASONS.get(d['reason'], d['reason']).lower()}"
    if kind == "StallCleared":
        return f"No longer stalled ({STALL_REASONS.get(d['reason'], d['reason']).lower()})"
    if kind == "Paused":
        reason = PAUSE_REASONS.get(d.get("reason_category", ""), "")
        until = f" until {day(d['until'])}" if d.get("until") else ""
        return f"Paused{until}" + (f": {reason.lower()}" if reason else "")
    if kind == "Extended":
        return f"Planned end moved to {day(d['planned_end'])}"
    if kind == "Ended":
        reason = f" ({d['reason_category'].replace('_', ' ')})" if d.get("reason_category") else ""
        return END_KINDS.get(d["kind"], "Ended") + reason
    if kind == "PairingChecked":
        working = d.get("working")  # sealed: only auditors see the answer
        if working is None:
            return f"The {d['party']} answered whether the pairing is working"
        return f"The {d['party']} said the pairing is {'' if working else 'not '}working for them"
    if kind == "FeedbackGiven":
        return f"Feedback given by the {d['respondent']} at the {d['stage']}"
    if kind == "PartyErased":
        return f"The {d['party']}'s personal details were erased"
    return _FIXED.get(kind, "Changed")


_FIXED: Mapping[str, str] = {
    "InvitationAccepted": "The mentor accepted the invitation",
    "InvitationDeclined": "The mentor declined the invitation",
    "InvitationLapsed": "The invitation lapsed without an answer",
    "InvitationWithdrawn": "The invitation was withdrawn",
    "Escalated": "Escalated to the scheme lead",
    "Resumed": "Resumed",
    "MidpointDue": "The midpoint review became due",
    "EndOfSchemeDue": "The planned end was reached",
    "Rematched": "Rematched: a new request for a mentor was made",
    "RematchAsked": "The mentee asked the coordinator for a new mentor",
}
