"""Pauses, races between people and timers, redelivery and continue-as-new, on the
time-skipping test server."""

import pytest

from domain.timers import setting_seconds
from tests.workflows.harness import Harness
from tests.workflows.support import (
    COORDINATOR,
    create_scheme,
    event_names,
    log_meeting,
    recorded,
    register_mentor,
    request_mentor,
)
from tests.workflows.test_timers import DAY, SECOND, active_pair, matched_pair, only
from workflows.clock import RelationshipClock, RelationshipWorkflowInput
from workflows.model import RECORD_SIGNAL
from workflows.relay import lifecycle_event
from workflows.workflow import RelationshipWorkflow

pytestmark = pytest.mark.anyio


async def test_a_pause_shifts_every_deadline_by_the_time_paused(harness: Harness) -> None:
    mentoring = harness.mentoring
    relationship, met_at = await active_pair(harness, planned_duration="P100D")
    before = await harness.timers(relationship)
    assert sorted(before) == ["meeting_cadence", "midpoint", "planned_end"]

    await harness.sleep(40 * DAY)
    mentoring.pause(relationship, "parental_leave", None, COORDINATOR)
    await harness.settle()
    paused = await harness.timers(relationship)
    assert all(view.paused and view.fires_at is None for view in paused.values())
    assert paused["midpoint"].remaining_seconds == pytest.approx((10 * DAY).total_seconds())

    # The midpoint (day 50) and the cadence deadline (day 70) pass while paused.
    await harness.sleep(35 * DAY)
    assert "MidpointDue" not in event_names(mentoring, relationship)
    assert "StallFlagged" not in event_names(mentoring, relationship)
    mentoring.resume(relationship, COORDINATOR)
    await harness.settle()
    paused_for = (
        only(mentoring, relationship, "Resumed").timestamp
        - only(mentoring, relationship, "Paused").timestamp
    )
    after = await harness.timers(relationship)
    for name, view in before.items():
        assert view.fires_at is not None
        assert after[name].fires_at == view.fires_at + paused_for, name
        assert not after[name].paused

    await harness.sleep(10 * DAY + SECOND)
    midpoint = only(mentoring, relationship, "MidpointDue")
    assert midpoint.timestamp - (met_at + 50 * DAY + paused_for) < SECOND


async def test_a_pause_suspends_the_escalation_of_a_stall(harness: Harness) -> None:
    mentoring = harness.mentoring
    relationship, _ = await matched_pair(harness)
    await harness.sleep(28 * DAY + SECOND)
    stall = only(mentoring, relationship, "StallFlagged")

    mentoring.pause(relationship, "sickness", None, COORDINATOR)
    await harness.sleep(20 * DAY)
    mentoring.resume(relationship, COORDINATOR)
    await harness.settle()
    paused_for = (
        only(mentoring, relationship, "Resumed").timestamp
        - only(mentoring, relationship, "Paused").timestamp
    )
    deadline = stall.timestamp + 14 * DAY + paused_for
    assert (await harness.timers(relationship))["escalate_after"].fires_at == deadline

    await harness.sleep(deadline - await harness.now() + SECOND)
    escalated = only(mentoring, relationship, "Escalated")
    assert deadline <= escalated.timestamp <= deadline + SECOND


async def test_a_timer_that_fires_into_a_pause_not_yet_relayed_waits_for_the_resume(
    harness: Harness,
) -> None:
    """The pair paused a day before the first-meeting deadline, but the pause reached
    the workflow only after the timer fired: the activity finds the pair paused and
    records nothing; the timer keeps its last day for after the pause."""
    mentoring = harness.mentoring
    relationship, matched_at = await matched_pair(harness)
    await harness.sleep(27 * DAY)
    mentoring.pause(relationship, "time_out_of_training", None, COORDINATOR)
    await harness.env.sleep(DAY + SECOND)  # the timer fires; the pause is not relayed
    assert "StallFlagged" not in event_names(mentoring, relationship)

    await harness.settle()
    timer = (await harness.timers(relationship))["first_meeting_within"]
    paused_at = only(mentoring, relationship, "Paused").timestamp
    assert timer.paused
    assert timer.remaining_seconds == pytest.approx(
        (matched_at + 28 * DAY - paused_at).total_seconds()
    )

    await harness.sleep(5 * DAY)
    mentoring.resume(relationship, COORDINATOR)
    await harness.settle()
    resumed_at = only(mentoring, relationship, "Resumed").timestamp
    await harness.sleep(DAY + SECOND)
    stall = only(mentoring, relationship, "StallFlagged")
    assert stall.reason == "no_first_meeting"
    expected = resumed_at + (matched_at + 28 * DAY - paused_at)
    assert expected <= stall.timestamp <= expected + SECOND


async def test_a_meeting_logged_as_the_timer_fires_wins(harness: Harness) -> None:
    """The meeting is recorded before the deadline but reaches the workflow after the
    timer fired: the activity sees the pair has met and records nothing."""
    mentoring = harness.mentoring
    relationship, _ = await matched_pair(harness)
    await harness.sleep(28 * DAY - SECOND)
    log_meeting(mentoring, relationship, await harness.now())
    await harness.env.sleep(2 * SECOND)  # the timer fires; the meeting is not relayed
    await harness.settle()
    assert event_names(mentoring, relationship) == [
        "Requested",
        "Matched",
        "MeetingLogged",
    ]
    assert sorted(await harness.timers(relationship)) == [
        "meeting_cadence",
        "midpoint",
        "planned_end",
    ]


async def test_events_delivered_again_change_nothing(harness: Harness) -> None:
    mentoring = harness.mentoring
    relationship, _ = await active_pair(harness)
    handle = harness.handle(relationship)
    progress = await handle.query(RelationshipWorkflow.progress)
    timers = await harness.timers(relationship)

    assert await harness.relay(since=0) > 0
    await harness.settle()
    assert await handle.query(RelationshipWorkflow.progress) == progress
    assert await harness.timers(relationship) == timers
    assert progress.applied == len(mentoring.relationship_events(relationship))


async def test_continue_as_new_keeps_every_timer(harness: Harness) -> None:
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring, require_mentor_acceptance=False)
    relationship = request_mentor(mentoring, scheme)
    mentoring.invite_mentor(relationship, register_mentor(mentoring, scheme), COORDINATOR)
    # Started as the relay would, but with a history limit small enough to reach.
    handle = await harness.client.start_workflow(
        RelationshipWorkflow.run,
        RelationshipWorkflowInput(str(relationship), history_limit=40),
        id=str(relationship),
        task_queue=harness.task_queue,
        start_signal=RECORD_SIGNAL,
        start_signal_args=[lifecycle_event(mentoring.relationship_events(relationship)[0])],
    )
    await harness.settle()
    for _ in range(8):
        mentoring.pause(relationship, "other", None, COORDINATOR)
        await harness.sleep(DAY)
        mentoring.resume(relationship, COORDINATOR)
        await harness.sleep(DAY)

    assert (await handle.describe()).run_id != handle.first_execution_run_id
    # The timers are those of a clock that followed every event in one run.
    events = [lifecycle_event(event) for event in mentoring.relationship_events(relationship)]
    durations = setting_seconds(mentoring.get_scheme(scheme))
    one_run = RelationshipClock(str(relationship), durations, "mentee_choice")
    for event in events:
        one_run.apply(event)
    assert await handle.query(RelationshipWorkflow.timers) == one_run.views()
    assert (await handle.query(RelationshipWorkflow.progress)).applied == len(events)

    deadline = one_run.views()[0].fires_at
    assert deadline is not None
    await harness.sleep(deadline - await harness.now() + SECOND)
    assert recorded(mentoring, relationship, "StallFlagged")[0].reason == "no_first_meeting"
