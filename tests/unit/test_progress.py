"""The progress bar of `mentoring rebuild` (services.progress): done of total, the
rate and the time left; redrawn in place on a terminal, a line at a time otherwise,
and the last update always shown."""

import io

from services.progress import Progress, clock


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_line_says_done_of_total_the_rate_and_the_time_left() -> None:
    line = Progress(io.StringIO()).line(40_000, 100_000, elapsed=2.0)
    assert line == "[########............] 40,000/100,000 events, 20,000 events/s, 0:03 left"
    assert Progress(io.StringIO()).line(0, 0, elapsed=0.0).startswith("[####################] 0/0")


def test_the_time_left_reads_as_a_clock() -> None:
    assert [clock(s) for s in (0, 59.6, 61, 3723)] == ["0:00", "1:00", "1:01", "1:02:03"]


def test_off_a_terminal_a_line_every_few_seconds_and_always_the_last() -> None:
    log = io.StringIO()
    progress = Progress(log)
    for done in range(0, 100, 10):
        progress(done, 100)
    progress(100, 100)
    lines = log.getvalue().splitlines()
    assert len(lines) == 2  # the first, then nothing for 5 s but the last
    assert lines[-1].startswith("[####################] 100/100 events")


def test_on_a_terminal_the_bar_is_redrawn_in_place_and_ends_the_line() -> None:
    screen = Terminal()
    progress = Progress(screen)
    progress(50, 100)
    progress(100, 100)
    assert screen.getvalue().startswith("\r[##########..........] 50/100 events")
    assert screen.getvalue().count("\r") == 2 and screen.getvalue().endswith(" left\n")
