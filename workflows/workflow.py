"""RelationshipWorkflow: one per relationship (workflow id = relationship id)."""

import contextlib
from collections import deque
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.policy import looks_for_candidates
    from domain.timers import TIMER, Consequence, Outcome
    from workflows.clock import RelationshipClock, RelationshipWorkflowInput, Timer
    from workflows.model import (
        INVITE_NEXT_CANDIDATE,
        LAPSE_INVITES_NEXT_CANDIDATE,
        LOCAL_ACTIVITIES,
        NOTIFY,
        READ_SCHEME_TIMERS,
        RECORD_SIGNAL,
        WORKFLOW_NAME,
        LifecycleEvent,
        Notice,
        Progress,
        SchemeTimers,
        TimerDue,
        TimerView,
    )

R = TypeVar("R")

ACTIVITY_TIMEOUT = timedelta(seconds=15)
# Retry until it works (the database may be down for a while); refusals by the
# domain are raised as non-retryable errors and end the retries at once.
ACTIVITY_RETRIES = RetryPolicy(maximum_interval=timedelta(minutes=1))


@workflow.defn(name=WORKFLOW_NAME)
class RelationshipWorkflow:
    """The process manager that owns a relationship's time.

    Receives the relationship's lifecycle events (signal `record`, from the relay),
    ignores versions it has already seen, and keeps the timers of DESIGN.md's table
    from the scheme's settings. When a timer fires it runs the activities of its
    consequences (domain.timers), each an application command that re-reads the
    aggregate and records the consequence as an event, unless the fact the timer
    counted from has changed meanwhile; then it records the consequence's notice.
    What the commands record comes back as events like any others. Ends when the
    relationship is ended or rematched (or is found closed when the workflow
    starts); continues as new when its history grows long. Query `timers` lists
    the timers, `progress` how far it got.
    """

    @workflow.init
    def __init__(self, start: RelationshipWorkflowInput) -> None:
        self._clock = start.clock
        self._inbox: deque[LifecycleEvent] = deque()
        self._last_version = start.clock.version if start.clock else 0

    @workflow.signal(name=RECORD_SIGNAL)
    def record(self, event: LifecycleEvent) -> None:
        # The relay delivers at least once and in order: a version already seen is
        # a redelivery.
        if event.version > self._last_version:
            self._last_version = event.version
            self._inbox.append(event)

    @workflow.query
    def timers(self) -> list[TimerView]:
        return self._clock.views() if self._clock else []

    @workflow.query
    def progress(self) -> Progress:
        return self._clock.progress() if self._clock else Progress(0, 0, "")

    @workflow.run
    async def run(self, start: RelationshipWorkflowInput) -> None:
        if self._clock is None:
            settings = await self._activity(READ_SCHEME_TIMERS, start.relationship_id, SchemeTimers)
            if not settings.relationship_open:
                return
            self._clock = RelationshipClock(
                start.relationship_id, settings.durations, settings.matching_model
            )
        clock = self._clock
        while True:
            while self._inbox:
                clock.apply(self._inbox.popleft())
            if clock.closed:
                return
            timer = clock.due(workflow.now())
            if timer is not None:
                await self._fire(clock, timer)
                continue
            if self._history_is_long(start.history_limit):
                workflow.continue_as_new(replace(start, clock=clock))
            await self._wait_for_event_or(clock)

    async def _wait_for_event_or(self, clock: RelationshipClock) -> None:
        """Sleep until an event arrives or the next timer is due."""
        deadline = clock.next_deadline()
        timeout = None
        if deadline is not None:
            timeout = max((deadline - workflow.now()).total_seconds(), 0.001)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: bool(self._inbox), timeout=timeout)

    def _history_is_long(self, limit: int) -> bool:
        info = workflow.info()
        return info.get_current_history_length() >= limit or info.is_continue_as_new_suggested()

    async def _fire(self, clock: RelationshipClock, timer: Timer) -> None:
        """Run the timer's consequences in order while each is recorded. A timer whose
        first command finds the pair paused waits for the next event (the pause)."""
        clock.take(timer)
        due = TimerDue(clock.relationship_id, timer.name, timer.basis)
        for step, consequence in enumerate(TIMER[timer.name].consequences):
            outcome = await self._activity(
                consequence.command, due, Outcome, refused=Outcome.UNCHANGED
            )
            if outcome == Outcome.PAUSED and step == 0:
                clock.hold(timer)
                return
            if consequence.command == "lapse_invitation":
                await self._invite_next_candidate_as_before(clock)
            if outcome != Outcome.RECORDED:
                return
            await self._notify(due, consequence)

    async def _invite_next_candidate_as_before(self, clock: RelationshipClock) -> None:
        """Workflows that lapsed an invitation before the lapse command took the
        matching model's next step itself ran it as an activity of its own here;
        replaying their histories runs it again."""
        if looks_for_candidates(clock.matching_model, paused=False) and not workflow.patched(
            LAPSE_INVITES_NEXT_CANDIDATE
        ):
            await self._activity(INVITE_NEXT_CANDIDATE, clock.relationship_id, bool, refused=False)

    async def _notify(self, due: TimerDue, consequence: Consequence) -> None:
        key = f"{due.timer}:{due.basis.isoformat()}"
        notice = Notice(due.relationship_id, consequence.audience, consequence.notice, key)
        await self._activity(NOTIFY, notice, bool, refused=False)

    async def _activity(
        self, name: str, argument: object, result_type: type[R], refused: R | None = None
    ) -> R:
        """Run an activity until it succeeds: a local activity, in the workflow task
        that needs it (one workflow task for a timer's consequences and their
        notices, rather than one per activity, and no activity task on the server).
        A refusal (a non-retryable error) is
        logged and answered with `refused`, since nothing was recorded; without a
        `refused` value it fails the workflow."""
        execute = (
            workflow.execute_local_activity
            if workflow.patched(LOCAL_ACTIVITIES)
            else workflow.execute_activity
        )
        try:
            result: R = await execute(
                name,
                argument,
                result_type=result_type,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRIES,
            )
            return result
        except ActivityError as error:
            if refused is None:
                raise
            workflow.logger.warning("%s refused: %s", name, error.cause or error)
            return refused
