"""The scheme setting `retention_after_end`: ISO 8601 durations, years and months
allowed (domain.durations.parse_retention)."""

from datetime import timedelta

import pytest

from domain.durations import parse_retention
from domain.errors import InvalidValue
from domain.scheme import Scheme
from tests.support.mentoring import scheme_settings
from tests.unit.scenario import STAFF


@pytest.mark.parametrize(
    ("text", "days"),
    [("P6Y", 2191), ("P18M", 548), ("P1Y6M", 548), ("P1Y2D", 367), ("P30D", 30), ("P2W", 14)],
)
def test_retention_periods_count_years_and_months(text: str, days: int) -> None:
    assert parse_retention(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["P", "6Y", "P6X", "P0Y", "P101Y", "PY", "", "P-1Y"])
def test_what_is_not_a_retention_period_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_retention(text)


def test_a_scheme_keeps_people_until_told_and_the_setting_changes() -> None:
    scheme = Scheme.create(scheme_settings(), STAFF)
    assert scheme.retention() is None
    scheme.change_settings({"retention_after_end": "P6Y"}, STAFF)
    assert scheme.retention() == timedelta(days=2191)
    with pytest.raises(InvalidValue):
        scheme.change_settings({"retention_after_end": "six years"}, STAFF)
    created = Scheme.create(scheme_settings(retention_after_end="P18M"), STAFF)
    assert created.retention_after_end == "P18M"
