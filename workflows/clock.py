"""A relationship's clock: which timers run, and when each fires, as a pure function
of the lifecycle events seen so far. The workflow keeps one and carries it through
continue-as-new; it holds no fact the event store does not.

Deadlines count from when an event was recorded (`occurred_at`), not from when the
relay delivered it, so a relay that catches up late still fires timers on time.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from workflows.model import (
    ESCALATE_AFTER,
    FIRST_MEETING_WITHIN,
    MATCH_WITHIN,
    MEETING_CADENCE,
    MENTOR_RESPONSE_WITHIN,
    MIDPOINT,
    PLANNED_END,
    LifecycleEvent,
    Progress,
    TimerView,
)

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
        match event.name:
            case "Requested":
                self.state = "requested"
                self._start(MATCH_WITHIN, at, self._after(at, "match_within"), at)
            case "MentorInvited":
                self.state = "mentor_invited"
                self._start(
                    MENTOR_RESPONSE_WITHIN, at, self._after(at, "mentor_response_within"), at
                )
            case "Matched" | "InvitationAccepted":
                self.state = "matched"
                self._stop(MATCH_WITHIN, MENTOR_RESPONSE_WITHIN)
                self._start(FIRST_MEETING_WITHIN, at, self._after(at, "first_meeting_within"), at)
            case "InvitationDeclined" | "InvitationLapsed" | "InvitationWithdrawn":
                self.state = "requested"
                self._stop(MENTOR_RESPONSE_WITHIN)
            case "MeetingLogged":
                self._meeting(at, event.planned_end)
            case "StallFlagged":
                self._start(ESCALATE_AFTER, at, self._after(at, "escalate_after"), at)
            case "StallCleared" | "Escalated":
                self._stop(ESCALATE_AFTER)
            case "Paused":
                self._pause(at)
            case "Resumed":
                self._resume(at)
            case "Extended":
                assert event.planned_end is not None
                self._start(PLANNED_END, event.planned_end, event.planned_end, at)
            case "Ended" | "Rematched":
                self.state = "ended" if event.name == "Ended" else "rematched"
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

    def _after(self, at: datetime, setting: str) -> datetime:
        return at + timedelta(seconds=self.durations[setting])

    def _meeting(self, at: datetime, planned_end: datetime | None) -> None:
        """Every meeting restarts the cadence clock; the first (which fixes the planned
        end) also starts the midpoint and planned-end timers."""
        if planned_end is not None:
            self.state = "active"
            self._stop(FIRST_MEETING_WITHIN)
            self._start(MIDPOINT, at, at + (planned_end - at) / 2, at)
            self._start(PLANNED_END, planned_end, planned_end, at)
        cadence = self.durations["meeting_cadence"] + self.durations["cadence_grace"]
        self._start(MEETING_CADENCE, at, at + timedelta(seconds=cadence), at)

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
