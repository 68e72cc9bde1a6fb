"""Failed authentications are throttled per client address over a sliding minute,
on a clock the test moves."""

from services.throttle import MAX_ADDRESSES, FailedAuthentications


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_twenty_first_failure_in_a_minute_waits_until_the_first_is_a_minute_old() -> None:
    clock = Seconds()
    throttle = FailedAuthentications(limit=20, clock=clock)
    for _ in range(19):
        throttle.record("192.0.2.7")
        clock.now += 1
    assert throttle.retry_after("192.0.2.7") is None
    throttle.record("192.0.2.7")  # the 20th, 19 s after the first
    assert throttle.retry_after("192.0.2.7") == 41
    clock.now += 40.5
    assert throttle.retry_after("192.0.2.7") == 1
    clock.now += 0.5
    assert throttle.retry_after("192.0.2.7") is None
    # The window slides: one more failure and the 20 latest are within a minute.
    throttle.record("192.0.2.7")
    assert throttle.retry_after("192.0.2.7") == 1


def test_one_address_failing_does_not_throttle_another() -> None:
    throttle = FailedAuthentications(limit=3, clock=Seconds())
    for _ in range(10):
        throttle.record("192.0.2.7")
    assert throttle.retry_after("192.0.2.7") == 60
    assert throttle.retry_after("198.51.100.1") is None


def test_addresses_whose_failures_are_all_old_are_forgotten_past_a_bound() -> None:
    clock = Seconds()
    throttle = FailedAuthentications(limit=1, clock=clock)
    for n in range(MAX_ADDRESSES):
        throttle.record(f"10.0.{n // 256}.{n % 256}")
    assert throttle.retry_after("10.0.0.0") == 60
    clock.now += 61
    throttle.record("192.0.2.7")
    assert len(throttle.counts._counts) == 1  # type: ignore[attr-defined]
    assert throttle.retry_after("192.0.2.7") == 60
