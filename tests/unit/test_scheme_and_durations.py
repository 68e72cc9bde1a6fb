from datetime import date, timedelta

import pytest

from domain.actors import Actor
from domain.durations import parse_duration
from domain.errors import InvalidValue
from domain.scheme import Scheme
from domain.timers import DEFAULT_TIMERS

ADMIN = Actor("admin", "t")
TODAY = date(2026, 7, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P28D", timedelta(days=28)),
        ("PT10S", timedelta(seconds=10)),
        ("P2W", timedelta(weeks=2)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT1.5S", timedelta(seconds=1.5)),
        ("pt30m", timedelta(minutes=30)),
    ],
)
def test_iso_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P1M", "P1Y", "28D", "P", "PT", "PT0S", "P-1D", "", "soon"])
def test_durations_that_mean_no_fixed_time_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_duration(text)


def test_omitted_timers_take_the_defaults() -> None:
    scheme = Scheme.create(
        {"name": "S", "matching_model": "hybrid", "timers": {"first_meeting_within": "PT10S"}},
        ADMIN,
    )
    assert scheme.timers == DEFAULT_TIMERS | {"first_meeting_within": "PT10S"}
    assert scheme.timer("first_meeting_within") == timedelta(seconds=10)


@pytest.mark.parametrize(
    "settings",
    [
        {"timers": {"tea_break": "PT10M"}},
        {"timers": {"match_within": "P1M"}},
        {"cohorts": [{"name": "a", "eligible_count": 1}, {"name": "a", "eligible_count": 2}]},
        {"matching_model": "lottery"},
    ],
)
def test_invalid_scheme_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Scheme.create({"name": "S", "matching_model": "assigned"} | settings, ADMIN)


def test_changing_timers_merges_them_and_is_recorded() -> None:
    scheme = Scheme.create({"name": "S", "matching_model": "assigned"}, ADMIN)
    scheme.change_settings({"timers": {"escalate_after": "P7D"}}, ADMIN)
    assert scheme.timers["escalate_after"] == "P7D"
    assert scheme.timers["match_within"] == "P21D"
    assert type(scheme.collect_events()[-1]).__name__ == "SettingsChanged"


def test_governance_roles_keep_every_holder() -> None:
    scheme = Scheme.create({"name": "S", "matching_model": "assigned"}, ADMIN)
    scheme.assign_role("coordinator", "Dr One", date(2026, 1, 1), TODAY, ADMIN)
    scheme.assign_role("coordinator", "Dr Two", date(2026, 6, 1), TODAY, ADMIN)
    scheme.assign_role("lead", "Prof Three", date(2026, 1, 1), TODAY, ADMIN)
    assert scheme.roles == [
        {"role": "coordinator", "person": "Dr One", "from_": "2026-01-01", "until": "2026-06-01"},
        {"role": "coordinator", "person": "Dr Two", "from_": "2026-06-01", "until": None},
        {"role": "lead", "person": "Prof Three", "from_": "2026-01-01", "until": None},
    ]
    with pytest.raises(InvalidValue):
        scheme.assign_role("coordinator", "Dr Early", date(2026, 3, 1), TODAY, ADMIN)
