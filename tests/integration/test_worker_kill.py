"""Killing the worker (SIGKILL) while 200 relationships have timers firing loses no
timer and duplicates no event once a new worker takes over."""

import signal
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.utils import get_topic
from temporalio.client import Client, WorkflowExecutionStatus

from domain.relationship import Relationship
from services.application import Mentoring
from services.bootstrap import serve_relay
from services.config import Settings
from services.persistence import create_cipher_key, postgres_env
from tests.workflows.support import (
    create_scheme,
    dev_server,
    event_names,
    in_background,
    request_mentor,
    start_process,
    wait_until,
)
from workflows.devserver import DevServer

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

CIPHER_KEY = create_cipher_key()
PAIRS = 200
TASK_QUEUE = "worker-kill"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server(tmp_path_factory.mktemp("temporal")) as server:
        yield server


def count_recorded(mentoring: Mentoring, event_name: str) -> int:
    topic = get_topic(getattr(Relationship, event_name))
    return len(mentoring.recorder.select_notifications(1, 10 * PAIRS, topics=[topic]))


def notices(database_url: str) -> list[tuple[str, str]]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT relationship_id::text, kind FROM notification_outbox ORDER BY id"
        ).fetchall()
    return [(relationship_id, kind) for relationship_id, kind in rows]


async def test_a_killed_worker_loses_no_timer_and_duplicates_no_event(
    database_url: str, temporal: DevServer, tmp_path: Path
) -> None:
    mentoring = Mentoring(env=postgres_env(database_url, CIPHER_KEY))
    env = {
        "MENTORING_DATABASE_URL": database_url,
        "MENTORING_CIPHER_KEY": CIPHER_KEY,
        "MENTORING_TEMPORAL_ADDRESS": temporal.address,
        "MENTORING_TEMPORAL_TASK_QUEUE": TASK_QUEUE,
    }
    log = tmp_path / "worker.log"
    try:
        scheme = create_scheme(mentoring, match_within="PT8S", escalate_after="PT8S")
        relationships = [request_mentor(mentoring, scheme) for _ in range(PAIRS)]
        first = start_process("worker", env, log)
        second = None
        async with in_background(serve_relay, Settings.from_env(env)):
            try:
                # Kill it once a quarter of the match deadlines have been flagged.
                await wait_until(
                    lambda: count_recorded(mentoring, "StallFlagged") >= PAIRS // 4,
                    120,
                    "stalls flagged",
                    interval=0.05,
                )
                first.send_signal(signal.SIGKILL)
                first.wait()
                killed_at = count_recorded(mentoring, "StallFlagged")
                second = start_process("worker", env, log)
                await wait_until(
                    lambda: count_recorded(mentoring, "Escalated") == PAIRS,
                    180,
                    "every stall escalated",
                )
                # The coordinator's notice follows the escalation in an activity of
                # its own: wait for it too before stopping the worker.
                await wait_until(
                    lambda: len(notices(database_url)) == 2 * PAIRS,
                    60,
                    "every notice recorded",
                )
            finally:
                for worker in (first, second):
                    if worker is not None and worker.poll() is None:
                        worker.terminate()
                        worker.wait(30)

        assert killed_at < PAIRS
        for relationship in relationships:
            assert event_names(mentoring, relationship) == [
                "Requested",
                "StallFlagged",
                "Escalated",
            ]
        assert sorted(notices(database_url)) == sorted(
            (str(relationship), kind)
            for relationship in relationships
            for kind in ("unmatched", "escalated")
        )
        # Each workflow still follows its open relationship, with no timer left.
        client = await Client.connect(temporal.address)
        for relationship in relationships[:: PAIRS // 20]:
            handle = client.get_workflow_handle(str(relationship))
            assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    finally:
        mentoring.close()
