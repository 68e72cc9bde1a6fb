"""The rules a coordinator relies on, beyond which state allows which command."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import DomainError, InvalidValue, NotEligible
from domain.privacy import sealed_fields
from domain.relationship import Relationship
from domain.timers import Outcome
from services.errors import NotFound
from tests.unit.scenario import STAFF, TODAY, Pairing


def test_a_meeting_clears_a_stall_and_its_escalation() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept(), pair.meet(), pair.flag("meeting_overdue")(), pair.escalate()
    assert (pair.relationship.stalled, pair.relationship.escalated) == (True, True)
    pair.meet()
    relationship = pair.relationship
    assert (relationship.stalled, relationship.escalated, relationship.stall_reason) == (
        False,
        False,
        None,
    )
    assert relationship.meetings_count == 2
    events = [type(e).__name__ for e in pair.app.relationship_events(pair.relationship_id)]
    assert events[-2:] == ["MeetingLogged", "StallCleared"]


def test_a_match_clears_an_unmatched_stall_but_an_invitation_does_not() -> None:
    pair = Pairing.requested()
    pair.flag("unmatched")()
    pair.invite()
    assert pair.relationship.stalled is True
    pair.accept()
    assert pair.relationship.stalled is False


def test_a_lapsed_invitation_goes_back_to_requested_flagged_and_excludes_that_mentor() -> None:
    pair = Pairing.requested()
    pair.invite()
    invited_at = pair.relationship.invited_at
    assert invited_at is not None
    assert pair.app.lapse_invitation(pair.relationship_id, invited_at) == Outcome.RECORDED
    relationship = pair.relationship
    assert relationship.state == "requested" and relationship.mentor_id is None
    assert relationship.stall_reason == "mentor_no_response"
    with pytest.raises(NotEligible) as refusal:
        pair.invite()
    assert refusal.value.reason == "declined_this_request"
    pair.app.invite_mentor(pair.relationship_id, pair.other_mentor_id, STAFF)
    assert pair.relationship.state == "mentor_invited"


def test_without_mentor_acceptance_an_invitation_matches_at_once_and_takes_a_place() -> None:
    pair = Pairing.requested(require_acceptance=False)
    pair.invite()
    assert pair.relationship.state == "matched"
    assert pair.app.get_mentor(pair.mentor_id).load == 1
    assert pair.mentor_id in pair.app.get_mentee(pair.mentee_id).previous_mentor_ids


def test_the_first_meeting_starts_the_planned_duration() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept(), pair.meet()
    relationship = pair.relationship
    assert relationship.first_meeting_at is not None and relationship.planned_end is not None
    assert relationship.planned_end - relationship.first_meeting_at == timedelta(days=365)


def test_the_first_meeting_and_an_extension_record_the_planned_end_they_fix() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept(), pair.meet(), pair.meet()
    first_end = pair.relationship.planned_end
    pair.extend()
    events = pair.app.relationship_events(pair.relationship_id)
    recorded = [
        (type(e).__name__, e.planned_end)
        for e in events
        if isinstance(e, Relationship.MeetingLogged | Relationship.Extended)
    ]
    assert recorded == [
        ("MeetingLogged", first_end),
        ("MeetingLogged", None),
        ("Extended", pair.relationship.planned_end),
    ]


def test_a_meeting_of_the_previous_release_is_read_with_the_planned_end_it_fixed() -> None:
    recorded_at = datetime(2024, 3, 11, 9, tzinfo=UTC)
    first = {"timestamp": recorded_at, "planned_duration": "P365D"}
    later = {"timestamp": recorded_at, "planned_duration": None}
    for state in (first, later):
        Relationship.MeetingLogged.upcast_v1_v2(state)
    assert first == {"timestamp": recorded_at, "planned_end": datetime(2025, 3, 11, 9, tzinfo=UTC)}
    assert later == {"timestamp": recorded_at, "planned_end": None}


def test_a_meeting_cannot_be_in_the_future_or_before_the_match() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept()
    for held_on in (TODAY + timedelta(days=1), TODAY - timedelta(days=1)):
        with pytest.raises(InvalidValue):
            pair.app.log_meeting(pair.relationship_id, held_on, "video", 60, STAFF)
    with pytest.raises(InvalidValue):
        pair.app.log_meeting(pair.relationship_id, TODAY, "video", 0, STAFF)
    assert pair.relationship.meetings_count == 0


def test_ending_frees_the_mentors_place_and_lets_the_mentee_ask_again() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept()
    assert pair.app.get_mentor(pair.mentor_id).load == 1
    pair.end()
    assert pair.app.get_mentor(pair.mentor_id).load == 0
    assert pair.app.get_mentee(pair.mentee_id).open_relationship_id is None
    again = pair.app.request_mentor(pair.scheme_id, pair.mentee_id, [], STAFF).aggregate
    assert again.state == "requested"


def test_one_open_request_per_mentee() -> None:
    pair = Pairing.requested()
    with pytest.raises(DomainError, match="already has an open request"):
        pair.app.request_mentor(pair.scheme_id, pair.mentee_id, [], STAFF)


def test_a_rematch_excludes_every_previous_mentor() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept(), pair.end(), pair.rematch()
    new_id = pair.relationship.rematched_to
    assert new_id is not None
    assert pair.app.get_relationship(new_id).rematch_of == pair.relationship_id
    with pytest.raises(NotEligible) as refusal:
        pair.app.invite_mentor(new_id, pair.mentor_id, STAFF)
    assert refusal.value.reason == "previous_mentor"
    pair.app.invite_mentor(new_id, pair.other_mentor_id, STAFF)


def test_capacity_is_never_exceeded() -> None:
    pair = Pairing.requested(capacity=1)
    pair.invite(), pair.accept()
    # A second mentee in the same scheme asks for the same, now full, mentor.
    app = pair.app
    mentee_id = pair.another_mentee()
    request = app.request_mentor(pair.scheme_id, mentee_id, [], STAFF).aggregate
    with pytest.raises(NotEligible) as refusal:
        app.invite_mentor(request.id, pair.mentor_id, STAFF)
    assert refusal.value.reason == "no_capacity"


def test_a_mentor_invited_twice_cannot_accept_beyond_capacity() -> None:
    pair = Pairing.requested(capacity=1)
    app = pair.app
    mentee_id = pair.another_mentee()
    other = app.request_mentor(pair.scheme_id, mentee_id, [], STAFF).aggregate
    pair.invite()
    app.invite_mentor(other.id, pair.mentor_id, STAFF)
    pair.accept()
    with pytest.raises(NotEligible) as refusal:
        app.respond_to_invitation(other.id, True, STAFF)
    assert refusal.value.reason == "no_capacity"
    assert app.get_mentor(pair.mentor_id).load == 1
    withdrawn = app.get_relationship(other.id)
    assert (withdrawn.state, withdrawn.mentor_id) == ("requested", None)
    assert withdrawn.declined_mentor_ids == []
    last = app.relationship_events(other.id)[-1]
    assert type(last).__name__ == "InvitationWithdrawn"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("line_manager", "line_manager"),
        ("unavailable", "unavailable"),
        ("untrained", "untrained"),
    ],
)
def test_ineligible_mentors_are_refused_with_a_reason(change: str, reason: str) -> None:
    pair = Pairing.requested()
    app = pair.app
    if change == "line_manager":
        managed = pair.another_mentee(line_manager_ids=[pair.mentor_id])
        relationship_id = app.request_mentor(pair.scheme_id, managed, [], STAFF).aggregate.id
    else:
        relationship_id = pair.relationship_id
        if change == "unavailable":
            app.update_mentor(pair.mentor_id, STAFF, available=False)
        else:
            app.change_scheme(pair.scheme_id, {"require_mentor_training": True}, STAFF)
    with pytest.raises(NotEligible) as refusal:
        app.invite_mentor(relationship_id, pair.mentor_id, STAFF)
    assert refusal.value.reason == reason
    assert app.get_relationship(relationship_id).state == "requested"


def test_training_makes_a_mentor_eligible_where_the_scheme_requires_it() -> None:
    pair = Pairing.requested()
    pair.app.change_scheme(pair.scheme_id, {"require_mentor_training": True}, STAFF)
    pair.app.update_mentor(pair.mentor_id, STAFF, trained_on=TODAY)
    pair.invite()
    assert pair.relationship.state == "mentor_invited"


def test_capacity_cannot_drop_below_the_current_pairs() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept()
    with pytest.raises(DomainError):
        pair.app.update_mentor(pair.mentor_id, STAFF, capacity=0)
    assert pair.app.get_mentor(pair.mentor_id).capacity == 3


def test_pause_records_its_reason_and_resume_clears_it() -> None:
    pair = Pairing.requested()
    pair.app.pause(pair.relationship_id, "sickness", TODAY + timedelta(days=30), STAFF)
    relationship = pair.relationship
    assert (relationship.paused, relationship.pause_reason) == (True, "sickness")
    assert relationship.paused_until == TODAY + timedelta(days=30)
    with pytest.raises(DomainError):
        pair.flag("unmatched")()
    pair.resume()
    assert (pair.relationship.paused, pair.relationship.pause_reason) == (False, None)


def test_an_extension_must_move_the_planned_end_later() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept(), pair.meet(), pair.end_due()
    planned_end = pair.relationship.planned_end
    assert planned_end is not None
    with pytest.raises(InvalidValue):
        pair.app.extend(pair.relationship_id, planned_end - timedelta(days=1), STAFF)
    pair.extend()
    relationship = pair.relationship
    assert relationship.planned_end == planned_end + timedelta(days=90)
    assert relationship.end_due is False


def test_the_no_blame_ending_seals_who_and_why() -> None:
    pair = Pairing.requested()
    pair.end("no_blame")
    ended = pair.app.relationship_events(pair.relationship_id)[-1]
    assert isinstance(ended, Relationship.Ended)
    assert sealed_fields(ended) == {"actor", "reason_category"}
    assert ended.actor == STAFF


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"unknown": 3}, "no mentee question"),
        ({"satisfied": 6}, "whole number 1-5"),
        ({"satisfied": True}, "whole number 1-5"),
        ({"worthwhile": True}, "no mentee question"),
        ({}, "must not be empty"),
    ],
)
def test_feedback_answers_must_fit_the_survey(answers: dict[str, object], message: str) -> None:
    pair = Pairing.requested()
    with pytest.raises(InvalidValue, match=message):
        pair.app.give_feedback(pair.relationship_id, "baseline", "mentee", answers, STAFF)


def test_feedback_is_given_once_per_stage_and_respondent() -> None:
    pair = Pairing.requested()
    pair.feedback("baseline")()
    with pytest.raises(DomainError, match="already answered"):
        pair.feedback("baseline")()


def test_timers_cannot_flag_a_relationship_that_has_moved_on() -> None:
    pair = Pairing.requested()
    pair.invite(), pair.accept()
    matched_at = pair.relationship.matched_at
    assert matched_at is not None
    pair.meet()
    version = pair.relationship.version
    outcome = pair.app.flag_stalled(pair.relationship_id, "first_meeting_within", matched_at)
    assert outcome == Outcome.UNCHANGED
    assert pair.relationship.version == version
    with pytest.raises(DomainError):
        pair.flag("no_first_meeting")()


def test_unknown_ids_are_not_found() -> None:
    pair = Pairing.requested()
    with pytest.raises(NotFound):
        pair.app.get_relationship(pair.mentee_id)  # a mentee's id is not a relationship's
    with pytest.raises(NotFound):
        pair.app.invite_mentor(pair.relationship_id, pair.scheme_id, STAFF)


def test_as_of_shows_the_relationship_as_it_stood() -> None:
    pair = Pairing.requested()
    pair.invite()
    invited_at = pair.relationship.invited_at
    pair.accept(), pair.meet()
    assert invited_at is not None
    assert pair.app.get_relationship(pair.relationship_id, as_of=invited_at).state == (
        "mentor_invited"
    )
    with pytest.raises(NotFound):
        pair.app.get_relationship(
            pair.relationship_id, as_of=pair.relationship.requested_at - timedelta(seconds=1)
        )


def test_an_erased_party_takes_the_rationale_and_pause_reason_with_them() -> None:
    pairing = Pairing.requested()
    pairing.invite()
    pairing.accept()
    pairing.pause()
    pairing.end()
    before = pairing.relationship
    assert before.rationale is not None and before.pause_reason is not None
    pairing.party_erased()
    after = pairing.relationship
    assert (after.rationale, after.pause_reason) == (None, None)
    assert (after.state, after.mentor_id, after.ended_at) == (
        before.state,
        before.mentor_id,
        before.ended_at,
    )
