"""Every timer of a relationship, on the time-skipping test server: each fires at the
scheme's duration and records the right event, by the system, naming its timer."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from temporalio.client import WorkflowExecutionStatus

from domain.actors import Actor
from services.application import Mentoring
from tests.workflows.harness import Harness, outbox_rows
from tests.workflows.support import (
    COORDINATOR,
    create_scheme,
    event_names,
    log_meeting,
    recorded,
    register_mentor,
    request_mentor,
)

pytestmark = pytest.mark.anyio

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def only(mentoring: Mentoring, relationship_id: UUID, name: str) -> Any:
    events = recorded(mentoring, relationship_id, name)
    assert len(events) == 1, f"{name}: {len(events)} recorded"
    return events[0]


def assert_fired_at(event: Any, timer: str, deadline: datetime) -> None:
    """Recorded by the system for `timer`, at its deadline (within the step of a second
    the scenario sleeps past it)."""
    assert event.actor == Actor.system(timer)
    assert deadline <= event.timestamp <= deadline + SECOND


async def matched_pair(harness: Harness, **timers: str) -> tuple[UUID, datetime]:
    """A pair matched straight away (no acceptance needed); the match time."""
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring, require_mentor_acceptance=False, **timers)
    relationship = request_mentor(mentoring, scheme)
    mentoring.invite_mentor(relationship, register_mentor(mentoring, scheme), COORDINATOR)
    await harness.settle()
    return relationship, only(mentoring, relationship, "Matched").timestamp


async def active_pair(harness: Harness, **timers: str) -> tuple[UUID, datetime]:
    """A pair that has had its first meeting; the time it was logged."""
    relationship, _ = await matched_pair(harness, **timers)
    log_meeting(harness.mentoring, relationship, await harness.now())
    await harness.settle()
    return relationship, only(harness.mentoring, relationship, "MeetingLogged").timestamp


async def test_an_unmatched_request_is_flagged_then_escalated(
    harness: Harness, database_url: str
) -> None:
    mentoring = harness.mentoring
    relationship = request_mentor(mentoring, create_scheme(mentoring))
    await harness.settle()
    requested_at = only(mentoring, relationship, "Requested").timestamp
    assert (await harness.timers(relationship))["match_within"].fires_at == requested_at + 21 * DAY

    await harness.sleep(21 * DAY + SECOND)
    stall = only(mentoring, relationship, "StallFlagged")
    assert stall.reason == "unmatched"
    assert_fired_at(stall, "match_within", requested_at + 21 * DAY)
    timers = await harness.timers(relationship)
    assert list(timers) == ["escalate_after"]
    assert timers["escalate_after"].fires_at == stall.timestamp + 14 * DAY

    await harness.sleep(14 * DAY + SECOND)
    assert_fired_at(
        only(mentoring, relationship, "Escalated"), "escalate_after", stall.timestamp + 14 * DAY
    )
    assert outbox_rows(database_url, relationship) == [
        ("coordinator", "unmatched"),
        ("coordinator", "escalated"),
    ]


async def test_an_unanswered_invitation_lapses_back_to_the_mentee_to_choose_again(
    harness: Harness, database_url: str
) -> None:
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring, matching_model="mentee_choice")
    relationship = request_mentor(mentoring, scheme)
    mentor = register_mentor(mentoring, scheme)
    register_mentor(mentoring, scheme)
    mentoring.invite_mentor(relationship, mentor, COORDINATOR)
    await harness.settle()
    invited_at = only(mentoring, relationship, "MentorInvited").timestamp
    requested_at = only(mentoring, relationship, "Requested").timestamp

    await harness.sleep(7 * DAY + SECOND)
    assert_fired_at(
        only(mentoring, relationship, "InvitationLapsed"),
        "mentor_response_within",
        invited_at + 7 * DAY,
    )
    state = mentoring.get_relationship(relationship)
    assert (state.state, state.stall_reason, state.declined_mentor_ids) == (
        "requested",
        "mentor_no_response",
        [mentor],
    )
    # The match deadline still counts from the request; the lapse's stall escalates.
    timers = await harness.timers(relationship)
    assert sorted(timers) == ["escalate_after", "match_within"]
    assert timers["match_within"].fires_at == requested_at + 21 * DAY
    assert outbox_rows(database_url, relationship) == [("coordinator", "invitation_lapsed")]


@pytest.mark.parametrize("matching_model", ["assigned", "hybrid"])
async def test_an_unanswered_invitation_lapses_and_the_next_candidate_is_invited(
    harness: Harness, database_url: str, matching_model: str
) -> None:
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring, matching_model=matching_model)
    relationship = request_mentor(mentoring, scheme)
    silent, next_best = register_mentor(mentoring, scheme), register_mentor(mentoring, scheme)
    mentoring.invite_mentor(relationship, silent, COORDINATOR)
    await harness.settle()
    invited_at = only(mentoring, relationship, "MentorInvited").timestamp

    await harness.sleep(7 * DAY + SECOND)
    lapsed = only(mentoring, relationship, "InvitationLapsed")
    assert_fired_at(lapsed, "mentor_response_within", invited_at + 7 * DAY)
    state = mentoring.get_relationship(relationship)
    assert (state.state, state.mentor_id, state.stall_reason) == (
        "mentor_invited",
        next_best,
        "mentor_no_response",
    )
    invited = recorded(mentoring, relationship, "MentorInvited")[-1]
    assert (invited.actor, invited.timestamp) == (lapsed.actor, lapsed.timestamp)
    # The new invitation has its own deadline; the lapse's stall escalates.
    timers = await harness.timers(relationship)
    assert sorted(timers) == ["escalate_after", "match_within", "mentor_response_within"]
    assert timers["mentor_response_within"].fires_at == invited.timestamp + 7 * DAY
    assert "invite_next_candidate" not in await harness.activities_run(relationship)
    assert outbox_rows(database_url, relationship) == [("coordinator", "invitation_lapsed")]


async def test_a_hybrid_mentee_who_does_not_pick_in_time_is_brought_to_the_coordinator(
    harness: Harness, database_url: str
) -> None:
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring, matching_model="hybrid", matching={"pick_within": "P5D"})
    relationship = request_mentor(mentoring, scheme)
    mentor = register_mentor(mentoring, scheme)
    await harness.settle()
    requested_at = only(mentoring, relationship, "Requested").timestamp
    timers = await harness.timers(relationship)
    assert timers["pick_within"].fires_at == requested_at + 5 * DAY

    await harness.sleep(5 * DAY + SECOND)
    stall, escalated = (
        only(mentoring, relationship, name) for name in ("StallFlagged", "Escalated")
    )
    assert stall.reason == "unmatched"
    assert_fired_at(stall, "pick_within", requested_at + 5 * DAY)
    assert_fired_at(escalated, "pick_within", requested_at + 5 * DAY)
    assert sorted(await harness.timers(relationship)) == ["match_within"]
    assert outbox_rows(database_url, relationship) == [("coordinator", "pick_overdue")]

    # The coordinator assigns a mentor directly.
    mentoring.invite_mentor(relationship, mentor, COORDINATOR)
    await harness.settle()
    assert mentoring.get_relationship(relationship).state == "mentor_invited"
    assert "pick_within" not in await harness.timers(relationship)


async def test_a_hybrid_mentee_who_picks_in_time_stops_the_pick_deadline(
    harness: Harness, database_url: str
) -> None:
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring, matching_model="hybrid", matching={"pick_within": "P5D"})
    relationship = request_mentor(mentoring, scheme)
    mentor = register_mentor(mentoring, scheme)
    await harness.sleep(4 * DAY)
    mentee = Actor("mentee", str(mentoring.get_relationship(relationship).mentee_id))
    mentoring.invite_mentor(relationship, mentor, mentee)
    await harness.settle()
    assert sorted(await harness.timers(relationship)) == ["match_within", "mentor_response_within"]

    await harness.sleep(2 * DAY)
    assert "StallFlagged" not in event_names(mentoring, relationship)
    assert outbox_rows(database_url, relationship) == []


async def test_an_accepted_invitation_stops_the_response_and_match_deadlines(
    harness: Harness,
) -> None:
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring)
    relationship = request_mentor(mentoring, scheme)
    mentoring.invite_mentor(relationship, register_mentor(mentoring, scheme), COORDINATOR)
    await harness.sleep(3 * DAY)
    mentoring.respond_to_invitation(relationship, True, COORDINATOR)
    await harness.settle()
    accepted_at = only(mentoring, relationship, "InvitationAccepted").timestamp

    timers = await harness.timers(relationship)
    assert list(timers) == ["first_meeting_within"]
    assert timers["first_meeting_within"].fires_at == accepted_at + 28 * DAY
    await harness.sleep(25 * DAY)
    assert event_names(mentoring, relationship) == [
        "Requested",
        "MentorInvited",
        "InvitationAccepted",
    ]


async def test_a_pair_that_never_meets_is_flagged_and_a_meeting_clears_it(
    harness: Harness, database_url: str
) -> None:
    mentoring = harness.mentoring
    relationship, matched_at = await matched_pair(harness)
    assert (await harness.timers(relationship))["first_meeting_within"].fires_at == (
        matched_at + 28 * DAY
    )

    await harness.sleep(28 * DAY + SECOND)
    stall = only(mentoring, relationship, "StallFlagged")
    assert stall.reason == "no_first_meeting"
    assert_fired_at(stall, "first_meeting_within", matched_at + 28 * DAY)
    assert "escalate_after" in await harness.timers(relationship)

    await harness.sleep(DAY)
    log_meeting(mentoring, relationship, await harness.now())
    await harness.settle()
    met_at = only(mentoring, relationship, "MeetingLogged").timestamp
    assert not mentoring.get_relationship(relationship).stalled
    timers = await harness.timers(relationship)
    assert sorted(timers) == ["meeting_cadence", "midpoint", "planned_end"]
    assert timers["meeting_cadence"].fires_at == met_at + 70 * DAY
    assert outbox_rows(database_url, relationship) == [("pair", "no_first_meeting")]


async def test_a_pair_that_stops_meeting_is_flagged_after_cadence_and_grace(
    harness: Harness,
) -> None:
    mentoring = harness.mentoring
    relationship, met_at = await active_pair(harness)

    await harness.sleep(70 * DAY + SECOND)
    stall = only(mentoring, relationship, "StallFlagged")
    assert stall.reason == "meeting_overdue"
    assert_fired_at(stall, "meeting_cadence", met_at + 70 * DAY)

    # Meeting again clears the stall, stops the escalation and restarts the cadence.
    log_meeting(mentoring, relationship, await harness.now())
    await harness.settle()
    met_again_at = recorded(mentoring, relationship, "MeetingLogged")[-1].timestamp
    assert "StallCleared" in event_names(mentoring, relationship)
    timers = await harness.timers(relationship)
    assert "escalate_after" not in timers
    assert timers["meeting_cadence"].fires_at == met_again_at + 70 * DAY


async def test_the_midpoint_check_in_and_the_planned_end_come_due_and_the_pair_completes(
    harness: Harness, database_url: str
) -> None:
    mentoring = harness.mentoring
    relationship, met_at = await active_pair(
        harness, planned_duration="P100D", meeting_cadence="P90D", cadence_grace="P30D"
    )
    timers = await harness.timers(relationship)
    assert timers["midpoint"].fires_at == met_at + 50 * DAY
    assert timers["planned_end"].fires_at == met_at + 100 * DAY

    await harness.sleep(50 * DAY + SECOND)
    assert_fired_at(only(mentoring, relationship, "MidpointDue"), "midpoint", met_at + 50 * DAY)

    await harness.sleep(50 * DAY)
    assert_fired_at(
        only(mentoring, relationship, "EndOfSchemeDue"), "planned_end", met_at + 100 * DAY
    )
    ended = only(mentoring, relationship, "Ended")
    assert ended.kind == "completed"
    assert_fired_at(ended, "planned_end", met_at + 100 * DAY)
    assert await harness.status(relationship) == WorkflowExecutionStatus.COMPLETED
    assert outbox_rows(database_url, relationship) == [
        ("pair", "midpoint_check_in_due"),
        ("pair", "end_of_scheme_feedback_due"),
        ("pair", "completed"),
    ]


async def test_an_extension_moves_the_planned_end(harness: Harness) -> None:
    mentoring = harness.mentoring
    relationship, met_at = await active_pair(
        harness, planned_duration="P100D", meeting_cadence="P90D", cadence_grace="P30D"
    )
    await harness.sleep(60 * DAY)
    new_end = met_at + 130 * DAY
    mentoring.extend(relationship, new_end, COORDINATOR)
    await harness.settle()
    assert (await harness.timers(relationship))["planned_end"].fires_at == new_end

    await harness.sleep(40 * DAY + SECOND)
    assert "Ended" not in event_names(mentoring, relationship)
    await harness.sleep(30 * DAY)
    assert_fired_at(only(mentoring, relationship, "Ended"), "planned_end", new_end)


async def test_an_ended_relationship_ends_its_workflow_and_takes_no_more_events(
    harness: Harness,
) -> None:
    mentoring = harness.mentoring
    relationship, _ = await matched_pair(harness)
    mentoring.end(relationship, "no_blame", None, COORDINATOR)
    await harness.settle()
    assert await harness.status(relationship) == WorkflowExecutionStatus.COMPLETED
    run_id = (await harness.handle(relationship).describe()).run_id

    rematch = mentoring.rematch(relationship, COORDINATOR).aggregate.id
    await harness.settle()
    # The Rematched event finds the workflow closed: no new run starts for it.
    assert (await harness.handle(relationship).describe()).run_id == run_id
    assert list(await harness.timers(rematch)) == ["match_within"]


async def test_a_workflow_first_started_after_its_relationship_ended_ends_at_once(
    harness: Harness,
) -> None:
    """The relay was far behind: by the time the request reaches Temporal, the
    relationship has ended. Nothing is left to time."""
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring, require_mentor_acceptance=False)
    relationship = request_mentor(mentoring, scheme)
    mentoring.invite_mentor(relationship, register_mentor(mentoring, scheme), COORDINATOR)
    mentoring.end(relationship, "withdrawn", None, COORDINATOR)
    await harness.settle()
    assert await harness.status(relationship) == WorkflowExecutionStatus.COMPLETED
    assert await harness.activities_run(relationship) == ["read_scheme_timers"]
