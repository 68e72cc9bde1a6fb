"""A relationship's clock: which timers run, and when each fires, as a pure function
of the lifecycle events seen so far and the timer table (domain.timers). The
workflow keeps one and carries it through continue-as-new; it holds no fact the
event store does not.

Deadlines count from when an event was recorded (`occurred_at`), not from when the
relay delivered it, so a relay that catches up late still fires timers on time.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.timers import RESUMED_BY, SUSPENDED_BY, TIMERS, Deadline
from domain.timers import Timer as TimerDefinition
from workflows.model import LifecycleEvent, Progress, TimerView

# The state each event leaves the relationship in (the others leave it as it was).
STATE_AFTER = {
    "Requested": "requested",
    "MentorInvited": "mentor_invited",
    "Matched": "matched",
    "InvitationAccepted": "matched",
    "InvitationDeclined": "requested",
    "InvitationLapsed": "requested",
    "InvitationWithdrawn": "requested",
    "MeetingLogged": "active",
    "Ended": "ended",
    "Rematched": "rematched",
}

# A timer is due once its deadline is this close: Temporal rounds timers to the
# millisecond, and a timer that wakes a hair early must not be set again.
TOLERANCE = timedelta(milliseconds=1)


@dataclass
class Timer:
    """A running timer has `fires_at`; a paused one has `remaining` seconds instead."""

    name: str
    basis: datetime
    fires_at: datetime | None = None
    remaining: float | None = None


@dataclass
class RelationshipClock:
    """The timers of one relationship. `durations` are the scheme's timer settings
    in seconds. A timer whose activity found the relationship paused before the
    workflow saw the pause is `held` until the next event arrives."""

    relationship_id: str
    durations: dict[str, float]
    matching_model: str
    version: int = 0
    applied: int = 0
    state: str = ""
    paused_since: datetime | None = None
    timers: list[Timer] = field(default_factory=list)
    held: Timer | None = None

    @property
    def closed(self) -> bool:
        return self.state in ("ended", "rematched")

    def apply(self, event: LifecycleEvent) -> None:
        """Follow one event; the caller has checked it is newer than `version`."""
        self.version = event.version
        self.applied += 1
        if self.held is not None:
            self.timers.append(self.held)
            self.held = None
        at = event.occurred_at
        self.state = STATE_AFTER.get(event.name, self.state)
        if event.name == SUSPENDED_BY:
            self._pause(at)
        elif event.name == RESUMED_BY:
            self._resume(at)
        self._stop(*(timer.name for timer in TIMERS if event.name in timer.stops))
        for timer in TIMERS:
            if event.name in timer.starts and self._runs(timer):
                self._start_after(timer, event)
        if self.closed:
            self.timers.clear()

    def due(self, now: datetime) -> Timer | None:
        """The running timer that fires first, if its deadline has come."""
        running = [timer for timer in self.timers if timer.fires_at is not None]
        if not running:
            return None
        first = min(running, key=lambda timer: timer.fires_at or now)
        assert first.fires_at is not None
        return first if first.fires_at <= now + TOLERANCE else None

    def next_deadline(self) -> datetime | None:
        deadlines = [timer.fires_at for timer in self.timers if timer.fires_at is not None]
        return min(deadlines, default=None)

    def take(self, timer: Timer) -> None:
        """The timer has fired: it no longer runs."""
        self.timers.remove(timer)

    def hold(self, timer: Timer) -> None:
        """Keep a fired timer aside until the next event (the pause it ran into)."""
        self.held = timer

    def views(self) -> list[TimerView]:
        timers = [*self.timers, *([self.held] if self.held else [])]
        return [
            TimerView(
                name=timer.name,
                fires_at=timer.fires_at,
                paused=timer.remaining is not None,
                remaining_seconds=timer.remaining,
            )
            for timer in sorted(timers, key=lambda timer: timer.name)
        ]

    def progress(self) -> Progress:
        return Progress(version=self.version, applied=self.applied, state=self.state)

    def _runs(self, timer: TimerDefinition) -> bool:
        """Whether the timer runs under this scheme. A workflow started before a
        timer existed was not given its settings, and never runs it."""
        if timer.models is not None and self.matching_model not in timer.models:
            return False
        return all(setting in self.durations for setting in timer.settings)

    def _start_after(self, timer: TimerDefinition, event: LifecycleEvent) -> None:
        """(Re)start a timer on an event that starts it; one that counts towards the
        planned end starts only on an event that fixes it."""
        at, planned_end = event.occurred_at, event.planned_end
        if timer.deadline == Deadline.AFTER_SETTINGS:
            seconds = sum(self.durations[setting] for setting in timer.settings)
            self._start(timer.name, at, at + timedelta(seconds=seconds), at)
        elif planned_end is None:
            return
        elif timer.deadline == Deadline.HALFWAY_TO_PLANNED_END:
            self._start(timer.name, at, at + (planned_end - at) / 2, at)
        else:
            self._start(timer.name, planned_end, planned_end, at)

    def _start(self, name: str, basis: datetime, fires_at: datetime, started: datetime) -> None:
        """(Re)start a timer; while paused it starts suspended, with the time it
        would have left when the pause ends."""
        self._stop(name)
        if self.paused_since is None:
            self.timers.append(Timer(name, basis, fires_at=fires_at))
        else:
            left = fires_at - max(self.paused_since, started)
            self.timers.append(Timer(name, basis, remaining=max(left.total_seconds(), 0.0)))

    def _stop(self, *names: str) -> None:
        self.timers = [timer for timer in self.timers if timer.name not in names]

    def _pause(self, at: datetime) -> None:
        self.paused_since = at
        for timer in self.timers:
            if timer.fires_at is not None:
                timer.remaining = max((timer.fires_at - at).total_seconds(), 0.0)
                timer.fires_at = None

    def _resume(self, at: datetime) -> None:
        self.paused_since = None
        for timer in self.timers:
            if timer.remaining is not None:
                timer.fires_at = at + timedelta(seconds=timer.remaining)
                timer.remaining = None


# Continue as new well before Temporal's limits (50k events); a busy pair adds a
# few hundred events a year.
HISTORY_LIMIT = 2_000


@dataclass(frozen=True)
class RelationshipWorkflowInput:
    """RelationshipWorkflow's start: the relationship id alone; continue-as-new carries
    the clock. Defined here, outside the workflow's module, which the sandbox runs
    again for every workflow it loads (making a dataclass costs about half a millisecond)."""

    relationship_id: str
    clock: RelationshipClock | None = None
    history_limit: int = HISTORY_LIMIT
