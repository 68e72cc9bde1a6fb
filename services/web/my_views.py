"""What the mentors' and mentees' own pages show: plain values read from the
application under the caller's access policy, in words for a page. No rule is
decided here; the dates a pair works to are the scheme's timers
(domain.timers' settings) counted from the relationship's own facts."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.durations import parse_duration
from domain.people import Mentee, Mentor
from domain.relationship import Relationship
from domain.scheme import Scheme
from domain.vocabulary import DeclineReason, EndKind, MatchingModel, MeetingMode, PauseReason, State
from services import read_side
from services.access import check_relationship, person_of
from services.application import Mentoring
from services.auth import Principal
from services.read_side import RelationshipFilter
from services.runtime import Runtime

STATE_WORDS = {
    State.REQUESTED: "Waiting for a mentor",
    State.MENTOR_INVITED: "A mentor has been invited and has not answered yet",
    State.MATCHED: "Matched: arrange your first meeting",
    State.ACTIVE: "Meeting",
    State.ENDED: "Ended",
    State.REMATCHED: "Ended; a new mentor is being found",
}
END_WORDS = {
    EndKind.NO_BLAME: "Ended, no blame",
    EndKind.COMPLETED: "Completed",
    EndKind.WITHDRAWN: "Withdrawn from the scheme",
}
MODE_WORDS = {
    MeetingMode.IN_PERSON: "In person",
    MeetingMode.VIDEO: "Video call",
    MeetingMode.PHONE: "Phone",
    MeetingMode.EMAIL: "Email",
    MeetingMode.OTHER: "Another way",
}
PAUSE_WORDS = {
    PauseReason.PARENTAL_LEAVE: "Parental leave",
    PauseReason.TIME_OUT_OF_TRAINING: "Time out of training",
    PauseReason.SICKNESS: "Sickness",
    PauseReason.OTHER: "Another reason",
}
DECLINE_WORDS = {
    DeclineReason.NO_TIME: "I do not have the time at the moment",
    DeclineReason.NOT_A_GOOD_FIT: "I do not think I am the right mentor for them",
    DeclineReason.CONFLICT_OF_INTEREST: "I have a conflict of interest",
    DeclineReason.OTHER: "Another reason",
}
MATCHING_WORDS = {
    MatchingModel.ASSIGNED: "The scheme's coordinator chooses your mentor.",
    MatchingModel.MENTEE_CHOICE: "You choose your mentor from the scheme's directory.",
    MatchingModel.HYBRID: "The scheme suggests a few mentors and you pick one.",
}


def long_date(value: date | datetime | str | None) -> str:
    """ "3 December 2026"; empty for None."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value.day} {value:%B %Y}"


def state_words(state: str, end_kind: str | None) -> str:
    """What a relationship's state means to its parties; an ending only as its kind
    (who ended it, and why, are sealed)."""
    if state == State.ENDED and end_kind:
        return END_WORDS[EndKind(end_kind)]
    return STATE_WORDS[State(state)]


@dataclass(frozen=True)
class Pair:
    """A relationship as one of its parties sees it: the other person's name only."""

    id: UUID
    scheme_name: str
    other_name: str | None
    state: str
    words: str
    requested_on: str
    matched_on: str
    ended_on: str

    @property
    def is_open(self) -> bool:
        return State(self.state) in {
            State.REQUESTED,
            State.MENTOR_INVITED,
            State.MATCHED,
            State.ACTIVE,
        }


def name_of(mentoring: Mentoring, kind: str, person_id: str | UUID | None) -> str | None:
    if person_id is None:
        return None
    person_id = UUID(str(person_id))
    get = mentoring.get_mentor if kind == "mentor" else mentoring.get_mentee
    return str(get(person_id).name)


def own_pairs(runtime: Runtime, principal: Principal) -> list[Pair]:
    """The caller's relationships, oldest first, from the read side."""
    person = person_of(principal)
    assert person is not None
    other = "mentee" if person[0] == "mentor" else "mentor"
    page = read_side.relationships(runtime.pool, principal, RelationshipFilter(), 500, 0)
    mentoring = runtime.mentoring
    schemes: dict[str, str] = {}
    pairs = []
    for row in page.items:
        if row["scheme_id"] not in schemes:
            schemes[row["scheme_id"]] = mentoring.get_scheme(UUID(row["scheme_id"])).name
        pairs.append(
            Pair(
                id=UUID(row["id"]),
                scheme_name=schemes[row["scheme_id"]],
                other_name=name_of(mentoring, other, row[f"{other}_id"]),
                state=row["state"],
                words=state_words(row["state"], row["end_kind"]),
                requested_on=long_date(row["requested_at"]),
                matched_on=long_date(row["matched_at"]),
                ended_on=long_date(row["ended_at"]),
            )
        )
    return pairs


def after(start: datetime | None, duration: str) -> str:
    return long_date(start + parse_duration(duration)) if start is not None else ""


@dataclass(frozen=True)
class Due:
    """What is due next and by when, in words."""

    what: str
    by: str


def next_due(relationship: Relationship, scheme: Scheme) -> list[Due]:
    """The dates the pair works to now, from the scheme's timers: the first meeting
    after a match, the next meeting after the last, the midpoint check-in and the
    planned end. A pause holds every timer, so while paused nothing is due."""
    timers = scheme.timers
    if relationship.paused or relationship.state not in (State.MATCHED, State.ACTIVE):
        return []
    if relationship.state == State.MATCHED:
        first = after(relationship.matched_at, timers["first_meeting_within"])
        return [Due("First meeting", first)]
    found = [Due("Next meeting", after(relationship.last_meeting_at, timers["meeting_cadence"]))]
    if not relationship.midpoint_due and relationship.first_meeting_at is not None:
        half = parse_duration(timers["planned_duration"]) / 2
        found.append(Due("Midpoint check-in", long_date(relationship.first_meeting_at + half)))
    found.append(Due("Planned end and end-of-scheme feedback", long_date(relationship.planned_end)))
    return found


@dataclass
class MeetingTotals:
    """How many meetings a relationship has recorded and for how long in all."""

    count: int = 0
    minutes: int = 0
    modes: list[str] = field(default_factory=list)

    @property
    def hours(self) -> str:
        return f"{self.minutes / 60:.1f}".removesuffix(".0")


def meeting_totals(mentoring: Mentoring, relationship_id: UUID) -> MeetingTotals:
    """The meetings recorded (date, mode, duration: there is nothing else)."""
    totals = MeetingTotals()
    for event in mentoring.relationship_events(relationship_id):
        if isinstance(event, Relationship.MeetingLogged):
            totals.count += 1
            totals.minutes += event.duration_minutes
            totals.modes.append(MODE_WORDS[MeetingMode(event.mode)])
    return totals


def load_own(mentoring: Mentoring, principal: Principal, relationship_id: UUID) -> Relationship:
    """The relationship, if it is the caller's (else NotFound, as the API answers)."""
    relationship = mentoring.get_relationship(relationship_id)
    check_relationship(principal, relationship)
    return relationship


def person(mentoring: Mentoring, principal: Principal) -> Mentor | Mentee:
    """The mentor or mentee the caller is (the page checked the role)."""
    found = person_of(principal)
    assert found is not None
    kind, person_id = found
    return mentoring.get_mentor(person_id) if kind == "mentor" else mentoring.get_mentee(person_id)


def record_rows(runtime: Runtime, principal: Principal) -> list[dict[str, Any]]:
    """The appraisal record: for each relationship that was paired, its scheme,
    dates, meetings and whether an agreement is in place; no content."""
    mentoring = runtime.mentoring
    rows = []
    for pair in own_pairs(runtime, principal):
        relationship = mentoring.get_relationship(pair.id)
        if relationship.matched_at is None:
            continue
        totals = meeting_totals(mentoring, pair.id)
        rows.append(
            {
                "pair": pair,
                "first_meeting_on": long_date(relationship.first_meeting_at),
                "last_meeting_on": long_date(relationship.last_meeting_on),
                "totals": totals,
                "agreement": relationship.agreement is not None,
            }
        )
    return rows
