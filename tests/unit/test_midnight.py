"""A whole test run started just before midnight UTC waits for it to pass
(tests.support.midnight)."""

from datetime import UTC, datetime, timedelta, timezone

from tests.support.midnight import MARGIN, wait_for_midnight


def test_a_run_started_at_midday_starts_at_once() -> None:
    assert wait_for_midnight(datetime(2026, 12, 7, 12, 0, tzinfo=UTC)) == 0


def test_a_run_started_a_quarter_of_an_hour_before_midnight_waits_until_just_after_it() -> None:
    now = datetime(2026, 12, 7, 23, 45, tzinfo=UTC)
    assert now + timedelta(seconds=wait_for_midnight(now)) == datetime(
        2026, 12, 8, 0, 0, 1, tzinfo=UTC
    )


def test_only_a_run_within_the_margin_waits() -> None:
    midnight = datetime(2026, 12, 8, tzinfo=UTC)
    assert wait_for_midnight(midnight - MARGIN - timedelta(seconds=1)) == 0
    assert wait_for_midnight(midnight - MARGIN) == MARGIN.total_seconds() + 1


def test_midnight_is_utcs_whatever_the_offset_of_the_time_given() -> None:
    london_summer = timezone(timedelta(hours=1))
    # 00:10 in British Summer Time is 23:10 UTC: fifty minutes to go, no wait.
    assert wait_for_midnight(datetime(2026, 7, 1, 0, 10, tzinfo=london_summer)) == 0
    # 00:50 BST is 23:50 UTC: ten minutes and a second.
    assert wait_for_midnight(datetime(2026, 7, 1, 0, 50, tzinfo=london_summer)) == 601
