"""A progress bar on stderr for long commands (`mentoring rebuild`): how many
events are done of how many, the rate, and the time left.

On a terminal the bar is redrawn in place a few times a second; otherwise (a log,
a pipe) a line is written every few seconds. The last update is always written.
"""

import sys
import time
from typing import TextIO

WIDTH = 20


class Progress:
    """Called with (done, total) as work goes, e.g. as a rebuild's `on_progress`."""

    def __init__(self, stream: TextIO | None = None, what: str = "events") -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.what = what
        self.on_terminal = self.stream.isatty()
        self.every = 0.2 if self.on_terminal else 5.0
        self.started = time.monotonic()
        self.shown = float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if not finished and now - self.shown < self.every:
            return
        self.shown = now
        line = self.line(done, total, now - self.started)
        if self.on_terminal:
            self.stream.write(f"\r{line}" + ("\n" if finished else ""))
        else:
            self.stream.write(f"{line}\n")
        self.stream.flush()

    def line(self, done: int, total: int, elapsed: float) -> str:
        """`[########............] 40,000/100,000 events, 20,000 events/s, 0:03 left`"""
        fraction = min(1.0, done / total) if total else 1.0
        filled = round(fraction * WIDTH)
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate else 0.0
        return (
            f"[{'#' * filled}{'.' * (WIDTH - filled)}] {done:,}/{total:,} {self.what}, "
            f"{rate:,.0f} {self.what}/s, {clock(left)} left"
        )


def clock(seconds: float) -> str:
    """`1:02:03` or `2:03`."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"
