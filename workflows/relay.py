"""The relay: delivers each recorded lifecycle event to its relationship's workflow.

An eventsourcing Projection reads the lifecycle events through the service's
application (so encrypted events are decrypted) in notification order, and hands
each to `Deliveries`, which signals-with-start the workflow whose id is the
relationship id: concurrently across relationships, in order within one. The
`relay_tracking` table records the position up to which every event has been
delivered, so a restarted relay resumes there; events after it may be delivered
again, which the workflow ignores (it has seen their versions).

Temporal being down never blocks a command: commands only write to PostgreSQL,
and the relay retries each delivery until Temporal is back, then catches up.
"""

import asyncio
import contextlib
import heapq
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection
from eventsourcing.utils import Environment, get_topic
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.lifecycle import LIFECYCLE_EVENTS
from domain.relationship import Relationship
from domain.survey_round import SurveyRound
from workflows.clock import RelationshipWorkflowInput
from workflows.model import RECORD_SIGNAL, TASK_QUEUE, LifecycleEvent
from workflows.survey_round import SurveyRoundWorkflow
from workflows.survey_round_model import workflow_id as survey_round_workflow_id
from workflows.workflow import RelationshipWorkflow

log = logging.getLogger(__name__)

LIFECYCLE_TOPICS = tuple(get_topic(event_class) for event_class in LIFECYCLE_EVENTS)
# What the relay reads: the lifecycle events, and the scheduling of survey rounds
# (each starts its round's workflow).
RELAYED_TOPICS = (*LIFECYCLE_TOPICS, get_topic(SurveyRound.Scheduled))
ROUND_SCHEDULED = "SurveyRound.Scheduled"

# Calls to Temporal under way at once.
WINDOW = 100
MAX_BACKOFF = 5.0


def lifecycle_event(domain_event: Relationship.Event) -> LifecycleEvent:
    """The signal for a recorded relationship event: ids, version, the event class's
    name, when it was recorded, and the planned end it recorded (the first meeting
    and an extension record one)."""
    planned_end: datetime | None = None
    match domain_event:
        case Relationship.MeetingLogged() | Relationship.Extended():
            planned_end = domain_event.planned_end
    return LifecycleEvent(
        relationship_id=str(domain_event.originator_id),
        version=domain_event.originator_version,
        name=type(domain_event).__name__,
        occurred_at=domain_event.timestamp,
        planned_end=planned_end,
    )


def round_scheduled(domain_event: SurveyRound.Scheduled) -> LifecycleEvent:
    """The delivery that starts a survey round's workflow: the round's id only."""
    return LifecycleEvent(
        relationship_id=str(domain_event.originator_id),
        version=domain_event.originator_version,
        name=ROUND_SCHEDULED,
        occurred_at=domain_event.timestamp,
    )


async def deliver(client: Client, event: LifecycleEvent, task_queue: str = TASK_QUEUE) -> None:
    """Signal the relationship's workflow, starting it if need be. A workflow that
    has finished (its relationship ended) takes no more events: that counts as
    delivered, and the id is never reused for a new run. A round scheduled starts
    the round's workflow (workflows.survey_round), once."""
    if event.name == ROUND_SCHEDULED:
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(
                SurveyRoundWorkflow.run,
                event.relationship_id,
                id=survey_round_workflow_id(event.relationship_id),
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        return
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            RelationshipWorkflow.run,
            RelationshipWorkflowInput(event.relationship_id),
            id=event.relationship_id,
            task_queue=task_queue,
            start_signal=RECORD_SIGNAL,
            start_signal_args=[event],
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )


class Calls:
    """At most `limit` calls at once; waiting callers go in order of position, so
    the earliest events are delivered first and the recorded position keeps up."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._waiting: list[tuple[int, asyncio.Future[None]]] = []

    @contextlib.asynccontextmanager
    async def place(self, position: int) -> AsyncIterator[None]:
        if self._free > 0:
            self._free -= 1
        else:
            waiting = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (position, waiting))
            try:
                await waiting  # the place is handed over by the caller that leaves
            except asyncio.CancelledError:
                if waiting.done() and not waiting.cancelled():
                    self._hand_over()
                raise
        try:
            yield
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        while self._waiting:
            _, waiting = heapq.heappop(self._waiting)
            if not waiting.done():
                waiting.set_result(None)
                return
        self._free += 1


class Deliveries:
    """Deliveries under way: at most `window` calls to Temporal at once, concurrent
    across relationships and one after another within a relationship; up to ten
    times as many events wait their turn. `delivered_up_to` is the position up to
    which every event has been delivered.

    `places` (for waiting events) is taken by the projection's thread before
    `submit`; everything else runs on the event loop.
    """

    def __init__(self, send: Callable[[LifecycleEvent], Awaitable[None]], window: int) -> None:
        self.places = threading.BoundedSemaphore(10 * window)
        self._calls = Calls(window)
        self.delivered_up_to: int | None = None
        self.recorded_up_to: int | None = None
        self.advanced = asyncio.Event()
        self._send = send
        self._positions: deque[int] = deque()
        self._done: set[int] = set()
        self._last: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, position: int, event: LifecycleEvent) -> None:
        self._positions.append(position)
        previous = self._last.get(event.relationship_id)
        task = asyncio.create_task(self._deliver(position, event, previous))
        self._last[event.relationship_id] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(event.relationship_id, done))

    @property
    def under_way(self) -> int:
        return len(self._positions)

    async def cancel(self) -> None:
        """Cancel what is under way (it is delivered again after a restart)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _deliver(
        self, position: int, event: LifecycleEvent, previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:
            await previous
        backoff = 0.1
        while True:
            try:
                async with self._calls.place(position):
                    await self._send(event)
                break
            except Exception as error:
                log.warning("delivering %s failed (%s); retrying", event, error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
        self._done.add(position)
        while self._positions and self._positions[0] in self._done:
            self._done.remove(self._positions[0])
            self.delivered_up_to = self._positions.popleft()
            self.advanced.set()
        self.places.release()

    def _forget(self, relationship_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._last.get(relationship_id) is task:
            del self._last[relationship_id]


class RelayTracking(PostgresTrackingRecorder):
    """The relay's position in the application's notification log (table
    `relay_tracking`, one row)."""


class RelayStopped(Exception):
    """The relay was asked to stop while waiting for a place to deliver."""


class RelayProjection(Projection[RelayTracking]):
    """Hands each lifecycle event, with its position, to the deliveries."""

    name = "relay"
    topics = RELAYED_TOPICS

    def __init__(
        self,
        view: RelayTracking,
        loop: asyncio.AbstractEventLoop,
        deliveries: Deliveries,
        stopping: threading.Event,
    ) -> None:
        super().__init__(view)
        self._loop = loop
        self._deliveries = deliveries
        self._stopping = stopping

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if isinstance(domain_event, SurveyRound.Scheduled):
            event = round_scheduled(domain_event)
        else:
            event = lifecycle_event(domain_event)
        while not self._deliveries.places.acquire(timeout=0.2):
            if self._stopping.is_set():
                raise RelayStopped
        self._loop.call_soon_threadsafe(self._deliveries.submit, tracking.notification_id, event)


async def run_relay(
    client: Client,
    application_class: type[Application[UUID]],
    env: Mapping[str, str],
    stop: asyncio.Event,
    *,
    task_queue: str,
    window: int = WINDOW,
) -> None:
    """Relay lifecycle events to their workflows on `task_queue` until `stop` is set.

    The events are read through an `application_class` made from `env` (the
    eventsourcing settings of the event store), which also holds the tracking table.
    Raises what stops the projection (the database going away for good), so a
    supervisor can restart the relay."""
    factory = InfrastructureFactory[RelayTracking].construct(
        env=Environment(RelayProjection.name, env)
    )
    view = factory.tracking_recorder(RelayTracking)
    deliveries = Deliveries(lambda event: deliver(client, event, task_queue), window)
    stopping = threading.Event()
    projection = RelayProjection(view, asyncio.get_running_loop(), deliveries, stopping)
    recorder = asyncio.create_task(_record_progress(deliveries, view, application_class.name))
    runner = await asyncio.to_thread(
        BaseProjectionRunner[Application[UUID]],
        projection=projection,
        application_class=application_class,
        tracking_recorder=view,
        topics=RELAYED_TOPICS,
        env=env,
    )
    await asyncio.to_thread(runner.__enter__)
    try:
        while not stop.is_set() and not runner.is_interrupted.is_set():
            await _wait(stop, 0.5)
    finally:
        stopping.set()
        try:
            await asyncio.to_thread(runner.__exit__, None, None, None)
        except RelayStopped:
            pass
        finally:
            await _finish(deliveries, recorder)
            factory.close()


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)


async def _record_progress(deliveries: Deliveries, view: RelayTracking, app_name: str) -> None:
    """Record the delivered-up-to position whenever it advances (the latest only)."""
    while True:
        await deliveries.advanced.wait()
        deliveries.advanced.clear()
        position = deliveries.delivered_up_to
        if position is None or position == deliveries.recorded_up_to:
            continue
        try:
            await asyncio.to_thread(view.insert_tracking, Tracking(app_name, position))
            deliveries.recorded_up_to = position
        except Exception as error:
            log.warning("recording the relay position %s failed (%s); retrying", position, error)
            await asyncio.sleep(1)
            deliveries.advanced.set()


async def _finish(deliveries: Deliveries, recorder: asyncio.Task[None]) -> None:
    """Give deliveries under way a few seconds to finish and their position to be
    recorded, then cancel what is left (it is delivered again on restart)."""
    for _ in range(50):
        if deliveries.under_way == 0 and deliveries.recorded_up_to == deliveries.delivered_up_to:
            break
        await asyncio.sleep(0.1)
    await deliveries.cancel()
    recorder.cancel()
    await asyncio.gather(recorder, return_exceptions=True)
