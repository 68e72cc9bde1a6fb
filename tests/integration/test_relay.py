"""The relay on PostgreSQL and the Temporal dev server: every lifecycle event reaches
its workflow exactly once in effect, across a crash of the relay and an outage of
Temporal."""

import asyncio
import signal
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from services.application import Mentoring
from services.bootstrap import serve_relay, serve_worker, worker_and_relay
from services.config import Settings
from services.persistence import create_cipher_key, postgres_env
from tests.support.settings import settings_for
from tests.workflows.support import (
    COORDINATOR,
    create_scheme,
    database_copy,
    dev_server,
    in_background,
    lifecycle_counts,
    register_mentor,
    relay_position,
    request_mentor,
    start_process,
    wait_until,
)
from workflows.connect import temporal_reachable
from workflows.devserver import DevServer, free_port
from workflows.workflow import RelationshipWorkflow

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

CIPHER_KEY = create_cipher_key()
PAIRS = 100


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server(tmp_path_factory.mktemp("temporal"), "straight", "interrupted") as server:
        yield server


def record_lives_of_pairs(database_url: str, pairs: int) -> set[str]:
    """Pairs requested, invited, accepted, met, paused and resumed; every tenth ends:
    six or seven lifecycle events each, and events the relay skips. The ids of the
    pairs that ended."""
    mentoring = Mentoring(env=postgres_env(database_url, CIPHER_KEY))
    ended = set()
    try:
        scheme = create_scheme(mentoring)
        mentors = [register_mentor(mentoring, scheme, capacity=10) for _ in range(pairs // 8 + 1)]
        for number in range(pairs):
            relationship = request_mentor(mentoring, scheme)
            mentoring.invite_mentor(relationship, mentors[number % len(mentors)], COORDINATOR)
            mentoring.respond_to_invitation(relationship, True, COORDINATOR)
            mentoring.log_meeting(relationship, date.today(), "phone", 30, COORDINATOR)
            mentoring.record_agreement(relationship, "monthly", True, True, COORDINATOR)
            mentoring.pause(relationship, "sickness", None, COORDINATOR)
            mentoring.resume(relationship, COORDINATOR)
            if number % 10 == 0:
                mentoring.end(relationship, "no_blame", None, COORDINATOR)
                ended.add(str(relationship))
    finally:
        mentoring.close()
    return ended


async def what_workflows_saw(
    address: str, namespace: str, relationship_ids: list[str]
) -> dict[str, Any]:
    """Per relationship: the workflow's progress, and its timers unless it has ended."""
    client = await Client.connect(address, namespace=namespace)
    seen: dict[str, Any] = {}
    for relationship_id in relationship_ids:
        handle = client.get_workflow_handle(relationship_id)
        progress = await handle.query(RelationshipWorkflow.progress)
        timers = await handle.query(RelationshipWorkflow.timers)
        seen[relationship_id] = (progress, timers)
    return seen


async def all_applied(address: str, namespace: str, expected: dict[str, int]) -> bool:
    client = await Client.connect(address, namespace=namespace)
    for relationship_id, count in expected.items():
        try:
            progress = await client.get_workflow_handle(relationship_id).query(
                RelationshipWorkflow.progress
            )
        except Exception:
            return False
        if progress.applied != count:
            return False
    return True


def mentoring_env(database_url: str, server: DevServer, namespace: str) -> dict[str, str]:
    return {
        "MENTORING_DATABASE_URL": database_url,
        "MENTORING_CIPHER_KEY": CIPHER_KEY,
        "MENTORING_TEMPORAL_ADDRESS": server.address,
        "MENTORING_TEMPORAL_NAMESPACE": namespace,
        "MENTORING_TEMPORAL_TASK_QUEUE": f"relay-{namespace}",
    }


async def test_a_relay_killed_mid_stream_delivers_what_an_uninterrupted_one_does(
    database_url: str, temporal: DevServer, tmp_path: Path
) -> None:
    ended = record_lives_of_pairs(database_url, PAIRS)
    mentoring = Mentoring(env=postgres_env(database_url, CIPHER_KEY))
    counts, last = lifecycle_counts(mentoring)
    mentoring.close()
    # A workflow that starts after its relationship has ended has nothing to time.
    expected = {key: 0 if key in ended else count for key, count in counts.items()}
    address = temporal.address

    with database_copy(database_url) as copy_url:
        straight = Settings.from_env(mentoring_env(database_url, temporal, "straight"))
        env = mentoring_env(copy_url, temporal, "interrupted")
        async with (
            in_background(serve_worker, straight),
            in_background(serve_worker, Settings.from_env(env)),
        ):
            # Uninterrupted: the original database into namespace "straight".
            async with in_background(serve_relay, straight):
                await wait_until(
                    lambda: relay_position(database_url) == last, 120, "straight relay"
                )

            # Killed twice on the way: the copy into namespace "interrupted".
            kills = [0]
            for _ in range(2):
                # Killed as soon as it has recorded progress of its own.
                relay = start_process("relay", env, tmp_path / "relay.log")
                await wait_until(
                    lambda: relay_position(copy_url) > kills[-1],
                    120,
                    "relay progress",
                    interval=0.01,
                )
                relay.send_signal(signal.SIGKILL)
                relay.wait()
                kills.append(relay_position(copy_url))
            relay = start_process("relay", env, tmp_path / "relay.log")
            try:
                await wait_until(lambda: relay_position(copy_url) == last, 120, "restarted relay")
            finally:
                relay.terminate()
                relay.wait(30)

            assert 0 < kills[1] < kills[2] < last, kills
            for namespace in ("straight", "interrupted"):
                await wait_until(
                    lambda ns=namespace: all_applied(address, ns, expected),
                    120,
                    f"workflows in {namespace} applied every event",
                )
            ids = sorted(expected)
            uninterrupted = await what_workflows_saw(address, "straight", ids)
            interrupted = await what_workflows_saw(address, "interrupted", ids)
    assert interrupted == uninterrupted
    assert {key: seen[0].applied for key, seen in uninterrupted.items()} == expected


async def test_commands_go_on_while_temporal_is_down_and_the_relay_catches_up(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    settings = settings_for(
        database_url,
        CIPHER_KEY,
        MENTORING_TEMPORAL_ADDRESS=address,
        MENTORING_TEMPORAL_TASK_QUEUE="outage",
    )
    mentoring = Mentoring(env=postgres_env(database_url, CIPHER_KEY))
    try:
        scheme = create_scheme(mentoring)
        async with in_background(serve_relay, settings):
            # Temporal is not there yet: requests are recorded all the same.
            before = [request_mentor(mentoring, scheme) for _ in range(10)]
            assert not await temporal_reachable(address)
            await asyncio.sleep(1)
            with dev_server(tmp_path / "temporal", port=port):
                assert await temporal_reachable(address)
                async with in_background(serve_worker, settings):
                    await wait_until(
                        lambda: all_applied(address, "default", {str(r): 1 for r in before}),
                        60,
                        "requested before Temporal started",
                    )
            # Temporal has stopped: more commands, which the relay cannot deliver yet.
            during = [request_mentor(mentoring, scheme) for _ in range(10)]
            for relationship in before:
                mentoring.pause(relationship, "other", None, COORDINATOR)
            await asyncio.sleep(2)
            with dev_server(tmp_path / "temporal", port=port):
                async with in_background(serve_worker, settings):
                    expected = {str(r): 2 for r in before} | {str(r): 1 for r in during}
                    await wait_until(
                        lambda: all_applied(address, "default", expected),
                        60,
                        "recorded while Temporal was down",
                    )
                    _, last = lifecycle_counts(mentoring)
                    await wait_until(lambda: relay_position(database_url) == last, 30, "tracking")
    finally:
        mentoring.close()


async def test_the_worker_and_relay_run_beside_the_api_in_a_thread(
    database_url: str, temporal: DevServer
) -> None:
    """As `mentoring up` runs them: their own event loop, in a thread."""
    mentoring = Mentoring(env=postgres_env(database_url, CIPHER_KEY))
    both = worker_and_relay(
        settings_for(database_url, CIPHER_KEY, MENTORING_TEMPORAL_ADDRESS=temporal.address)
    )
    both.start()
    try:
        relationship = request_mentor(mentoring, create_scheme(mentoring))
        await wait_until(
            lambda: all_applied(temporal.address, "default", {str(relationship): 1}),
            60,
            "the request reached its workflow",
        )
    finally:
        both.stop()
        mentoring.close()
    assert both.error is None
