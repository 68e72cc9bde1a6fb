"""Scenarios on the time-skipping test server: the real workflow, the real activities
over a Mentoring application on PostgreSQL, and the relay's own translation and
delivery, driven step by step so a scenario decides when events reach workflows."""

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from google.protobuf.json_format import MessageToDict
from psycopg_pool import ConnectionPool
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.application import Mentoring
from workflows.activities import RelationshipActivities
from workflows.devserver import temporal_cli
from workflows.model import TimerView
from workflows.outbox import Outbox
from workflows.relay import LIFECYCLE_TOPICS, deliver, lifecycle_event
from workflows.workflow import RelationshipWorkflow

# The last event of a run's history while the worker still has something to do.
BUSY = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_TIMER_FIRED,
    }
)

ACTIVITY_SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
ACTIVITY_FINISHED = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    }
)

# The marker a local activity's result is recorded in (Temporal's core SDK).
LOCAL_ACTIVITY_MARKER = "core_local_activity"

# Set to a folder to keep the history of every workflow a scenario ran
# (bench/capture_histories.py does).
CAPTURE_HISTORIES = "MENTORING_CAPTURE_HISTORIES"


def test_server_path() -> str:
    return str(temporal_cli().with_name("temporal-test-server"))


class DomainClock:
    """The time the domain stamps on events and calls today: an activity's events
    take the test server's time (the moment it scheduled the activity, or for a
    local activity, which the server never sees, its time while it runs: the
    timer's firing, since the server skips no time while a workflow task is under
    way), a scenario's own commands the server time the harness last read."""

    def __init__(self) -> None:
        self.scenario_now = datetime.now(UTC)
        self.server_now: Callable[[], datetime] = lambda: self.scenario_now
        self._local_attempts: dict[tuple[str, str, int], datetime] = {}

    def now(self) -> datetime:
        if not activity.in_activity():
            return self.scenario_now
        info = activity.info()
        if not info.is_local:
            return info.current_attempt_scheduled_time
        # One moment for the whole attempt, as a scheduled time would be.
        attempt = (info.workflow_run_id, info.activity_id, info.attempt)
        if attempt not in self._local_attempts:
            self._local_attempts[attempt] = self.server_now()
        return self._local_attempts[attempt]


class Harness:
    """One scenario: its workflows run on `task_queue` of a time-skipping server."""

    def __init__(
        self, env: WorkflowEnvironment, mentoring: Mentoring, task_queue: str, clock: DomainClock
    ) -> None:
        self.env = env
        self.mentoring = mentoring
        self.task_queue = task_queue
        self.clock = clock
        self.workflow_ids: list[str] = []
        self._position = 0

    @property
    def client(self) -> Client:
        return self.env.client

    async def now(self) -> datetime:
        """The server's time, which the domain then uses for the scenario's commands."""
        self.clock.scenario_now = await self.env.get_current_time()
        return self.clock.scenario_now

    async def sleep(self, duration: timedelta) -> datetime:
        """Let `duration` pass on the server (timers fire, activities record their
        consequences), then deliver what was recorded. Returns the time after."""
        await self.env.sleep(duration)
        await self.settle()
        return await self.now()

    async def settle(self) -> None:
        """Deliver recorded events until no workflow has anything left to do."""
        while True:
            for workflow_id in self.workflow_ids:
                await self._idle(self.handle(workflow_id))
            if not await self.relay():
                return

    async def relay(self, since: int | None = None) -> int:
        """Deliver the lifecycle events recorded after `since` (by default, after
        the last delivered) as the relay does; how many were delivered."""
        start = (self._position if since is None else since) + 1
        notifications = self.mentoring.recorder.select_notifications(
            start, 1000, topics=LIFECYCLE_TOPICS
        )
        for notification in notifications:
            event = lifecycle_event(self.mentoring.mapper.to_domain_event(notification))
            await deliver(self.client, event, self.task_queue)
            if event.relationship_id not in self.workflow_ids:
                self.workflow_ids.append(event.relationship_id)
            self._position = max(self._position, notification.id)
        return len(notifications)

    def handle(self, relationship_id: UUID | str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(str(relationship_id))

    async def timers(self, relationship_id: UUID) -> dict[str, TimerView]:
        views = await self.handle(relationship_id).query(RelationshipWorkflow.timers)
        return {view.name: view for view in views}

    async def status(self, relationship_id: UUID) -> WorkflowExecutionStatus | None:
        return (await self.handle(relationship_id).describe()).status

    async def activities_run(self, relationship_id: UUID) -> list[str]:
        """The activity types the workflow ran, in order (all runs): scheduled as
        activity tasks, or recorded as local activities."""
        names = []
        async for history in self._histories(str(relationship_id)):
            names += activity_types([MessageToDict(event) for event in history.events])
        return names

    async def capture_histories(self, folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        stem = name.replace("[", "-").replace("]", "")
        for index, workflow_id in enumerate(self.workflow_ids):
            async for run, history in _enumerate(self._histories(workflow_id)):
                (folder / f"{stem}-{index}-run{run}.json").write_text(history.to_json())

    async def _histories(self, workflow_id: str) -> AsyncIterator[Any]:
        """The histories of every run of a workflow, the first run first."""
        histories = []
        run_id: str | None = None
        while True:
            history = await self.client.get_workflow_handle(
                workflow_id, run_id=run_id
            ).fetch_history()
            histories.insert(0, history)
            started = history.events[0].workflow_execution_started_event_attributes
            run_id = started.continued_execution_run_id or None
            if run_id is None:
                break
        for history in histories:
            yield history

    async def _idle(self, handle: WorkflowHandle[Any, Any]) -> None:
        """Wait until the workflow's latest run has nothing under way: no activity
        without its result, and a history that ends with what a finished workflow
        task left (no signal, timer or activity result waiting for the worker)."""
        while True:
            events = (await handle.fetch_history()).events
            scheduled = sum(event.event_type == ACTIVITY_SCHEDULED for event in events)
            finished = sum(event.event_type in ACTIVITY_FINISHED for event in events)
            if scheduled == finished and events[-1].event_type not in BUSY:
                return
            await asyncio.sleep(0.02)


def activity_types(events: list[dict[str, Any]]) -> list[str]:
    """The activity types in a history's events (in the JSON form of its proto), in
    order: activity tasks scheduled, and local activities' markers."""
    names = []
    for event in events:
        if "activityTaskScheduledEventAttributes" in event:
            names.append(event["activityTaskScheduledEventAttributes"]["activityType"]["name"])
        marker = event.get("markerRecordedEventAttributes", {})
        if marker.get("markerName") == LOCAL_ACTIVITY_MARKER:
            data = marker["details"]["data"]["payloads"][0]["data"]
            names.append(json.loads(base64.b64decode(data))["activity_type"])
    return names


async def _enumerate(items: AsyncIterator[Any]) -> AsyncIterator[tuple[int, Any]]:
    index = 0
    async for item in items:
        yield index, item
        index += 1


@asynccontextmanager
async def time_skipping_harness(
    mentoring: Mentoring, database_url: str, clock: DomainClock, name: str
) -> AsyncIterator[Harness]:
    """A time-skipping server and a worker for one scenario, both closed on exit.
    Keeps the scenario's histories when CAPTURE_HISTORIES names a folder."""
    pool = ConnectionPool(database_url, min_size=1, max_size=4, open=True)
    outbox = Outbox(pool)
    outbox.create_table()
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path()
    )
    loop = asyncio.get_running_loop()
    clock.server_now = lambda: asyncio.run_coroutine_threadsafe(
        env.get_current_time(), loop
    ).result(timeout=30)
    try:
        activities = RelationshipActivities(mentoring, outbox)
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with Worker(
                env.client,
                task_queue=name,
                workflows=[RelationshipWorkflow],
                activities=activities.all(),
                activity_executor=executor,
                max_concurrent_activities=4,
            ):
                harness = Harness(env, mentoring, name, clock)
                await harness.now()
                yield harness
                capture = os.environ.get(CAPTURE_HISTORIES)
                if capture:
                    await harness.capture_histories(Path(capture), name)
    finally:
        await env.shutdown()
        pool.close()


def outbox_rows(database_url: str, relationship_id: UUID) -> list[tuple[str, str]]:
    """(audience, kind) of the relationship's notices, oldest first."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT audience, kind FROM notification_outbox WHERE relationship_id = %s ORDER BY id",
            (relationship_id,),
        ).fetchall()
    return [(audience, kind) for audience, kind in rows]
