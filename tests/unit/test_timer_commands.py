"""What a timer's command decides when its timer fires (domain.consequences), and how
the application saves that decision with the version it was made on."""

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain import consequences
from domain.actors import Actor
from domain.relationship import Relationship
from domain.timers import Outcome
from tests.unit.scenario import TODAY, Pairing

PERSON = Actor("coordinator", "token-1")
LATER = timedelta(seconds=1)


def requested() -> Relationship:
    return Relationship(
        scheme_id=uuid4(), mentee_id=uuid4(), preferred_mentor_ids=[], rematch_of=None, actor=PERSON
    )


def invited() -> Relationship:
    relationship = requested()
    relationship.invite(uuid4(), True, None, PERSON)
    return relationship


def matched() -> Relationship:
    relationship = invited()
    relationship.accept(PERSON)
    return relationship


def active() -> Relationship:
    relationship = matched()
    relationship.log_meeting(TODAY, "video", 60, "P100D", TODAY, PERSON)
    return relationship


def paused(relationship: Relationship) -> Relationship:
    relationship.pause("sickness", None, TODAY, PERSON)
    return relationship


def stalled(relationship: Relationship) -> Relationship:
    relationship.flag_stalled("meeting_overdue", PERSON)
    return relationship


def fact(relationship: Relationship, attribute: str) -> datetime:
    basis = getattr(relationship, attribute)
    assert isinstance(basis, datetime)
    return basis


Decide = Callable[[Relationship, datetime], Outcome]
FLAG_NO_FIRST_MEETING: Decide = lambda r, basis: consequences.flag_stalled(  # noqa: E731
    r, "first_meeting_within", basis
)
FLAG_OVERDUE: Decide = lambda r, basis: consequences.flag_stalled(  # noqa: E731
    r, "meeting_cadence", basis
)
FLAG_UNMATCHED: Decide = lambda r, basis: consequences.flag_stalled(  # noqa: E731
    r, "match_within", basis
)
PICK: Decide = lambda r, basis: consequences.notify_pick_overdue(r, basis, "hybrid")  # noqa: E731

# (arranged relationship, command, the fact it counted from, what it answers, the
# events it records)
CASES: list[tuple[str, Callable[[], Relationship], Decide, str, Outcome, list[str]]] = [
    ("unmatched", requested, FLAG_UNMATCHED, "requested_at", Outcome.RECORDED, ["StallFlagged"]),
    ("never met", matched, FLAG_NO_FIRST_MEETING, "matched_at", Outcome.RECORDED, ["StallFlagged"]),
    ("met meanwhile", active, FLAG_NO_FIRST_MEETING, "matched_at", Outcome.UNCHANGED, []),
    ("paused", lambda: paused(matched()), FLAG_NO_FIRST_MEETING, "matched_at", Outcome.PAUSED, []),
    ("overdue", active, FLAG_OVERDUE, "last_meeting_at", Outcome.RECORDED, ["StallFlagged"]),
    ("flagged", lambda: stalled(active()), FLAG_OVERDUE, "last_meeting_at", Outcome.RECORDED, []),
    (
        "unanswered",
        invited,
        consequences.lapse_invitation,
        "invited_at",
        Outcome.RECORDED,
        ["InvitationLapsed", "StallFlagged"],
    ),
    (
        "accepted meanwhile",
        matched,
        consequences.lapse_invitation,
        "invited_at",
        Outcome.UNCHANGED,
        [],
    ),
    (
        "pick overdue",
        requested,
        PICK,
        "requested_since",
        Outcome.RECORDED,
        ["StallFlagged", "Escalated"],
    ),
    ("picked meanwhile", invited, PICK, "requested_since", Outcome.UNCHANGED, []),
    (
        "stall lasts",
        lambda: stalled(active()),
        consequences.escalate,
        "stalled_since",
        Outcome.RECORDED,
        ["Escalated"],
    ),
    (
        "midpoint",
        active,
        consequences.mark_midpoint_due,
        "first_meeting_at",
        Outcome.RECORDED,
        ["MidpointDue"],
    ),
    (
        "planned end",
        active,
        consequences.mark_end_due,
        "planned_end",
        Outcome.RECORDED,
        ["EndOfSchemeDue"],
    ),
    ("not extended", active, consequences.complete, "planned_end", Outcome.RECORDED, ["Ended"]),
    (
        "end paused",
        lambda: paused(active()),
        consequences.complete,
        "planned_end",
        Outcome.PAUSED,
        [],
    ),
]


def pending(relationship: Relationship) -> list[str]:
    return [type(event).__name__ for event in relationship.pending_events]


@pytest.mark.parametrize(
    ("arrange", "decide", "basis", "outcome", "recorded"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_timer_records_its_consequence_only_while_its_fact_holds(
    arrange: Callable[[], Relationship],
    decide: Decide,
    basis: str,
    outcome: Outcome,
    recorded: list[str],
) -> None:
    relationship = arrange()
    counted_from = getattr(relationship, basis) or datetime.now().astimezone()
    relationship.collect_events()
    assert decide(relationship, counted_from) == outcome
    assert pending(relationship) == recorded
    if outcome == Outcome.RECORDED:  # fired again (a retry): recorded already
        relationship.collect_events()
        assert decide(relationship, counted_from) == Outcome.RECORDED
        assert pending(relationship) == []


@pytest.mark.parametrize(
    ("arrange", "decide", "basis"),
    [case[1:4] for case in CASES if case[5]],
    ids=[case[0] for case in CASES if case[5]],
)
def test_a_timer_counting_from_another_fact_changes_nothing(
    arrange: Callable[[], Relationship], decide: Decide, basis: str
) -> None:
    relationship = arrange()
    other = (getattr(relationship, basis) or datetime.now().astimezone()) + LATER
    relationship.collect_events()
    assert decide(relationship, other) == Outcome.UNCHANGED
    assert pending(relationship) == []


def test_a_pick_deadline_means_nothing_outside_the_hybrid_model() -> None:
    relationship = requested()
    relationship.collect_events()
    outcome = consequences.notify_pick_overdue(
        relationship, relationship.requested_since, "assigned"
    )
    assert (outcome, pending(relationship)) == (Outcome.UNCHANGED, [])


def test_an_extended_pair_is_not_completed_at_the_old_planned_end() -> None:
    relationship = active()
    old_end = fact(relationship, "planned_end")
    relationship.extend(old_end + timedelta(days=30), PERSON)
    relationship.collect_events()
    assert consequences.complete(relationship, old_end) == Outcome.UNCHANGED
    assert consequences.mark_end_due(relationship, old_end) == Outcome.UNCHANGED
    assert pending(relationship) == []


# The application: guard and act on one read ---------------------------------------


def test_a_meeting_saved_while_the_timer_decides_is_never_flagged_overdue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first-meeting timer fires; its command reads the matched pair, and the pair's
    meeting is saved before the command saves. The command's write conflicts with the
    meeting, so it decides again on what was saved: the pair has met."""
    pair = Pairing.requested()
    pair.invite(), pair.accept()
    matched_at = fact(pair.relationship, "matched_at")
    read = pair.app.get_relationship
    decided_on: list[Relationship] = []
    reads = 0

    def a_meeting_lands_after_the_first_read(
        relationship_id: UUID, as_of: datetime | None = None
    ) -> Relationship:
        nonlocal reads
        reads += 1
        relationship = read(relationship_id, as_of)
        if not decided_on:
            decided_on.append(relationship)
            pair.meet()
        return relationship

    monkeypatch.setattr(pair.app, "get_relationship", a_meeting_lands_after_the_first_read)
    outcome = pair.app.flag_stalled(pair.relationship_id, "first_meeting_within", matched_at)

    assert decided_on[0].state == "matched"  # the first decision was made before the meeting
    assert reads == 3  # the command's, the meeting's, and the command's again after the conflict
    assert outcome == Outcome.UNCHANGED
    events = [type(e).__name__ for e in pair.app.relationship_events(pair.relationship_id)]
    assert events[-1] == "MeetingLogged" and "StallFlagged" not in events
    assert read(pair.relationship_id).stalled is False


def test_a_completion_frees_the_mentors_place_in_the_same_write() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept(), pair.meet()
    planned_end = fact(pair.relationship, "planned_end")
    assert pair.app.complete(pair.relationship_id, planned_end) == Outcome.RECORDED
    assert pair.relationship.end_kind == "completed"
    assert pair.app.get_mentor(pair.mentor_id).load == 0
    assert pair.app.get_mentee(pair.mentee_id).open_relationship_id is None
    version = pair.relationship.version
    assert pair.app.complete(pair.relationship_id, planned_end) == Outcome.RECORDED
    assert pair.relationship.version == version
