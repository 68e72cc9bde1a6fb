"""Every date a scheme records lies where a mentoring scheme can mean it (domain.bounds):
at the bound it is accepted, one step past it is refused with a message naming the
field and the bound, and nothing is saved."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.actors import Actor
from domain.bounds import EARLIEST_DATE, LONGEST_PAUSE, LONGEST_RELATIONSHIP, ROLE_NOTICE
from domain.durations import LONGEST_DURATION, parse_duration
from domain.errors import InvalidValue
from domain.scheme import Scheme
from tests.unit.scenario import STAFF, TODAY, Pairing

ADMIN = Actor("admin", "t")


def active_pair() -> Pairing:
    pair = Pairing.requested()
    pair.invite()
    pair.accept()
    pair.meet()
    return pair


def test_the_extension_that_stopped_the_audit_trail_is_refused() -> None:
    pair = active_pair()
    version = pair.relationship.version
    far = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))
    with pytest.raises(InvalidValue, match="more than ten years after the first meeting"):
        pair.app.extend(pair.relationship_id, far, STAFF)
    assert pair.relationship.version == version


def test_an_extension_reaches_ten_years_after_the_first_meeting_and_no_further() -> None:
    pair = active_pair()
    first_meeting_at = pair.relationship.first_meeting_at
    assert first_meeting_at is not None
    latest = first_meeting_at + LONGEST_RELATIONSHIP
    with pytest.raises(InvalidValue, match=r"until .* ten years after the first meeting \(at most"):
        pair.app.extend(pair.relationship_id, latest + timedelta(seconds=1), STAFF)
    pair.app.extend(pair.relationship_id, latest, STAFF)
    assert pair.relationship.planned_end == latest


def test_a_scheme_plans_relationships_of_ten_years_at_most() -> None:
    longest = f"P{LONGEST_RELATIONSHIP.days}D"
    scheme = Scheme.create(
        {"name": "S", "matching_model": "assigned", "timers": {"planned_duration": longest}},
        ADMIN,
    )
    too_long = {"timers": {"planned_duration": f"P{LONGEST_RELATIONSHIP.days + 1}D"}}
    with pytest.raises(InvalidValue, match="planned_duration is longer than 3653 days"):
        scheme.change_settings(too_long, ADMIN)
    with pytest.raises(InvalidValue, match="planned_duration"):
        Scheme.create({"name": "S", "matching_model": "assigned"} | too_long, ADMIN)
    assert scheme.timers["planned_duration"] == longest


@pytest.mark.parametrize("text", [f"P{LONGEST_DURATION.days + 1}D", "P99999999999D", "PT1e400S"])
def test_no_duration_is_longer_than_a_century(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_duration(text)


def test_the_longest_duration_is_accepted() -> None:
    assert parse_duration(f"P{LONGEST_DURATION.days}D") == LONGEST_DURATION


def test_a_pause_is_expected_to_end_within_five_years() -> None:
    pair = active_pair()
    version = pair.relationship.version
    with pytest.raises(InvalidValue, match="a pause lasts at most five years"):
        pair.app.pause(
            pair.relationship_id, "sickness", TODAY + LONGEST_PAUSE + timedelta(days=1), STAFF
        )
    assert pair.relationship.version == version
    pair.app.pause(pair.relationship_id, "sickness", TODAY + LONGEST_PAUSE, STAFF)
    assert pair.relationship.paused_until == TODAY + LONGEST_PAUSE


@pytest.mark.parametrize(
    ("trained_on", "message"),
    [
        (TODAY + timedelta(days=1), "trained_on .* is in the future"),
        (EARLIEST_DATE - timedelta(days=1), "trained_on 1949-12-31 is before 1950-01-01"),
    ],
)
def test_training_is_recorded_on_a_day_that_has_been(trained_on: date, message: str) -> None:
    pair = Pairing.requested()
    mentor = pair.app.get_mentor(pair.mentor_id)
    profile = {
        field: getattr(mentor, field)
        for field in ("scheme_id", "name", "email", "grade", "specialty", "institution")
    } | {"interests": [], "capacity": 1}
    with pytest.raises(InvalidValue, match=message):
        pair.app.register_mentor(profile | {"trained_on": trained_on}, STAFF)
    with pytest.raises(InvalidValue, match=message):
        pair.app.update_mentor(pair.mentor_id, STAFF, trained_on=trained_on)
    assert pair.app.get_mentor(pair.mentor_id).version == mentor.version
    for day in (EARLIEST_DATE, TODAY):
        registered = pair.app.register_mentor(profile | {"trained_on": day}, STAFF)
        assert registered.aggregate.trained_on == day
        assert pair.app.update_mentor(pair.mentor_id, STAFF, trained_on=day).aggregate.trained_on


@pytest.mark.parametrize(
    ("from_", "message"),
    [
        (TODAY + ROLE_NOTICE + timedelta(days=1), "from .* is more than 366 days ahead"),
        (EARLIEST_DATE - timedelta(days=1), "from 1949-12-31 is before 1950-01-01"),
    ],
)
def test_a_governance_role_starts_within_a_year_from_now(from_: date, message: str) -> None:
    scheme = Scheme.create({"name": "S", "matching_model": "assigned"}, ADMIN)
    with pytest.raises(InvalidValue, match=message):
        scheme.assign_role("lead", "Prof One", from_, TODAY, ADMIN)
    scheme.assign_role("lead", "Prof One", EARLIEST_DATE, TODAY, ADMIN)
    scheme.assign_role("lead", "Prof Two", TODAY + ROLE_NOTICE, TODAY, ADMIN)
    assert [term["person"] for term in scheme.roles] == ["Prof One", "Prof Two"]


def test_the_planned_end_counts_in_utc_whatever_the_offset_given() -> None:
    pair = active_pair()
    first_meeting_at = pair.relationship.first_meeting_at
    assert first_meeting_at is not None
    latest = (first_meeting_at + LONGEST_RELATIONSHIP).astimezone(UTC)
    east = timezone(timedelta(hours=14))
    # The same instant written with a +14:00 offset is still at the bound.
    pair.app.extend(pair.relationship_id, latest.astimezone(east), STAFF)
    assert pair.relationship.planned_end == latest


def objectives(target: float) -> dict[str, object]:
    objective = {
        "id": "uptake",
        "description": "Most sign up",
        "metric": "uptake_rate",
        "comparison": ">=",
        "target": target,
    }
    return {"name": "S", "matching_model": "assigned", "objectives": [objective]}


@pytest.mark.parametrize("target", [1e16, -1e300, float("inf"), float("nan")])
def test_an_objective_aims_at_a_number_a_scheme_can_reach(target: float) -> None:
    with pytest.raises(InvalidValue, match="the target of objective 'uptake' must be a number"):
        Scheme.create(objectives(target), ADMIN)


def test_an_objective_target_is_recorded_as_jsonb_writes_it_back() -> None:
    """-0.0 would come back from PostgreSQL's jsonb as 0.0, breaking the audit chain."""
    scheme = Scheme.create(objectives(-0.0), ADMIN)
    assert str(scheme.objectives[0]["target"]) == "0.0"
    assert Scheme.create(objectives(1e9), ADMIN).objectives[0]["target"] == 1e9
