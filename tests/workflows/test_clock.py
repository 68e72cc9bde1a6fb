"""The relationship clock on its own: which timers run after which events."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.actors import Actor
from domain.lifecycle import LIFECYCLE_EVENTS
from domain.relationship import Relationship
from domain.timers import RESUMED_BY, SETTING, SUSPENDED_BY, TIMERS
from workflows.clock import STATE_AFTER, RelationshipClock
from workflows.model import LifecycleEvent

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DURATIONS = {
    "match_within": 21 * DAY.total_seconds(),
    "mentor_response_within": 7 * DAY.total_seconds(),
    "first_meeting_within": 28 * DAY.total_seconds(),
    "meeting_cadence": 56 * DAY.total_seconds(),
    "cadence_grace": 14 * DAY.total_seconds(),
    "escalate_after": 14 * DAY.total_seconds(),
    "planned_duration": 100 * DAY.total_seconds(),
}


def clock_after(
    *events: tuple[str, timedelta] | tuple[str, timedelta, datetime],
) -> RelationshipClock:
    """A clock that saw (name, days after START[, planned end]) events in order."""
    clock = RelationshipClock("r-1", DURATIONS, "hybrid")
    for version, (name, after, *planned_end) in enumerate(events, start=1):
        end = planned_end[0] if planned_end else None
        clock.apply(LifecycleEvent("r-1", version, name, START + after, end))
    return clock


def deadlines(clock: RelationshipClock) -> dict[str, datetime | None]:
    return {view.name: view.fires_at for view in clock.views()}


def test_a_request_waits_for_a_match_and_an_invitation_for_an_answer() -> None:
    clock = clock_after(("Requested", 0 * DAY), ("MentorInvited", 2 * DAY))
    assert deadlines(clock) == {
        "match_within": START + 21 * DAY,
        "mentor_response_within": START + 9 * DAY,
    }
    clock.apply(LifecycleEvent("r-1", 3, "InvitationDeclined", START + 3 * DAY))
    assert deadlines(clock) == {"match_within": START + 21 * DAY}


def test_a_first_meeting_starts_the_cadence_midpoint_and_planned_end() -> None:
    end = START + 110 * DAY
    clock = clock_after(("Requested", 0 * DAY), ("Matched", DAY), ("MeetingLogged", 10 * DAY, end))
    assert deadlines(clock) == {
        "meeting_cadence": START + 80 * DAY,
        "midpoint": START + 60 * DAY,
        "planned_end": end,
    }
    assert clock.state == "active"


def test_a_pause_suspends_every_timer_and_a_resume_shifts_them_by_the_pause() -> None:
    end = START + 110 * DAY
    clock = clock_after(
        ("Requested", 0 * DAY),
        ("Matched", DAY),
        ("MeetingLogged", 10 * DAY, end),
        ("StallFlagged", 11 * DAY),
    )
    before = deadlines(clock)
    clock.apply(LifecycleEvent("r-1", 5, "Paused", START + 20 * DAY))
    assert all(view.paused for view in clock.views())
    assert clock.due(START + 400 * DAY) is None
    clock.apply(LifecycleEvent("r-1", 6, "Resumed", START + 50 * DAY))
    assert deadlines(clock) == {
        name: deadline + 30 * DAY for name, deadline in before.items() if deadline
    }


def test_timers_started_during_a_pause_count_from_the_resume() -> None:
    clock = clock_after(
        ("Requested", 0 * DAY),
        ("Matched", DAY),
        ("Paused", 2 * DAY),
        ("MeetingLogged", 5 * DAY, START + 105 * DAY),
        ("Extended", 6 * DAY, START + 125 * DAY),
        ("Resumed", 12 * DAY),
    )
    assert deadlines(clock) == {
        "meeting_cadence": START + 82 * DAY,  # 70 days from the resume
        "midpoint": START + 62 * DAY,  # 50 days from the resume
        "planned_end": START + 131 * DAY,  # the new end, plus the 6 paused days after it
    }


def test_a_held_timer_waits_for_the_next_event() -> None:
    clock = clock_after(("Requested", 0 * DAY), ("Matched", DAY))
    timer = clock.due(START + 29 * DAY)
    assert timer is not None and timer.name == "first_meeting_within"
    clock.take(timer)
    clock.hold(timer)
    assert clock.due(START + 30 * DAY) is None
    assert clock.next_deadline() is None

    clock.apply(LifecycleEvent("r-1", 3, "Paused", START + 28 * DAY))
    clock.apply(LifecycleEvent("r-1", 4, "Resumed", START + 40 * DAY))
    assert deadlines(clock) == {"first_meeting_within": START + 41 * DAY}


def test_an_ending_stops_every_timer() -> None:
    clock = clock_after(("Requested", 0 * DAY), ("MentorInvited", DAY), ("Ended", 2 * DAY))
    assert clock.closed
    assert clock.views() == []
    assert clock.progress().applied == 3


DAY_SECONDS = DAY.total_seconds()


def hybrid_clock_after(*events: tuple[str, timedelta]) -> RelationshipClock:
    """A clock of a hybrid scheme whose mentees have 5 days to pick a mentor."""
    clock = RelationshipClock("r-1", DURATIONS | {"pick_within": 5 * DAY_SECONDS}, "hybrid")
    for version, (name, after) in enumerate(events, start=1):
        clock.apply(LifecycleEvent("r-1", version, name, START + after))
    return clock


def test_a_hybrid_request_waits_for_the_mentees_pick_until_a_mentor_is_invited() -> None:
    clock = hybrid_clock_after(("Requested", 0 * DAY))
    assert deadlines(clock)["pick_within"] == START + 5 * DAY
    clock.apply(LifecycleEvent("r-1", 2, "MentorInvited", START + DAY))
    assert "pick_within" not in deadlines(clock)
    # Declined: the mentee has the whole time again, from the decline.
    clock.apply(LifecycleEvent("r-1", 3, "InvitationDeclined", START + 3 * DAY))
    assert deadlines(clock)["pick_within"] == START + 8 * DAY
    assert deadlines(clock)["match_within"] == START + 21 * DAY
    clock.apply(LifecycleEvent("r-1", 4, "Matched", START + 4 * DAY))
    assert deadlines(clock) == {"first_meeting_within": START + 32 * DAY}


def test_the_pick_deadline_is_for_hybrid_schemes_and_workflows_given_it() -> None:
    other_model = RelationshipClock("r-1", DURATIONS | {"pick_within": DAY_SECONDS}, "assigned")
    other_model.apply(LifecycleEvent("r-1", 1, "Requested", START))
    assert list(deadlines(other_model)) == ["match_within"]
    # A workflow started before the pick deadline existed was not given its setting.
    started_before = clock_after(("Requested", 0 * DAY))
    assert started_before.matching_model == "hybrid"
    assert list(deadlines(started_before)) == ["match_within"]


def test_every_timer_is_started_and_stopped_by_lifecycle_events_the_relay_delivers() -> None:
    relayed = {event_class.__name__ for event_class in LIFECYCLE_EVENTS}
    for timer in TIMERS:
        assert {*timer.starts, *timer.stops} <= relayed, timer.name
    assert {SUSPENDED_BY, RESUMED_BY, *STATE_AFTER} <= relayed


def test_every_timer_counts_from_a_fact_the_relationship_records() -> None:
    relationship = Relationship(
        scheme_id=uuid4(),
        mentee_id=uuid4(),
        preferred_mentor_ids=[],
        rematch_of=None,
        actor=Actor.system("test"),
    )
    for timer in TIMERS:
        assert hasattr(relationship, timer.counts_from), timer.name
        assert set(timer.settings) <= set(SETTING), timer.name
