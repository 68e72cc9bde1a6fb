"""Commands per second through the HTTP API, beside a bare event-store save loop.

    .venv/bin/python bench/bench_api.py [--clients 8] [--server-workers 1] [--rounds 4]
                                        [--seconds 5] [--pairs 1000] [--idempotency-keys]
                                        [--open-loop-rate 100]

One run, one scratch database on the local PostgreSQL (dropped afterwards):

- api:  `POST /v1/relationships/{id}/meetings` sent by each pair's mentor with a
        bearer token, over keep-alive HTTP/1.1 connections to uvicorn in a subprocess
        serving the real app (services.api.app.create_app, configured by MENTORING_*
        variables; access log off). Each request authenticates (a token lookup),
        reads the relationship and its scheme, checks and saves one event. Meetings
        go round robin over `--pairs` matched pairs (set up through the API first),
        so no two clients touch one relationship at once.
- bare: `Application.save` of a new one-event aggregate, on the same database, from
        as many threads as there are HTTP clients.

Phases alternate (bare, api, bare, api, ...) after a warm-up, so load from anything
else on the machine falls on both. Prints each path's rate, p50/p99 latency and CPU
per command (this process, the API server, PostgreSQL; read from /proc, so Linux
only), and the ratio api/bare (target: >= 0.7). Talks only to 127.0.0.1 and stops
by itself within `--budget` seconds.

With `--open-loop-rate R` there is no bare path: the api phases send R requests a
second, each when it is due whether or not the earlier ones have been answered, and
the latency (from when each was due) is reported against the p99 target of 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import itertools
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.cli import worker_count  # noqa: E402
from services.config import Settings  # noqa: E402
from services.persistence import create_cipher_key, postgres_env  # noqa: E402
from tests.support.databases import scratch_database as shared_scratch_database  # noqa: E402

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
LOOPBACK = "127.0.0.1"
ADMIN_TOKEN = "bench-admin-token"
MENTOR_CAPACITY = 20  # the most the API allows: fewer mentors, fewer tokens
PR_SET_PDEATHSIG = 1

T = TypeVar("T")


# Measurement ------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """What one path did in one timed window."""

    path: str
    round: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    connections: int = 0  # opened by an open-loop phase

    @property
    def commands(self) -> int:
        return len(self.latencies_ms)

    @property
    def per_second(self) -> float:
        return self.commands / self.seconds


class CpuMeter:
    """CPU time used by this process (the load generator or the savers), the API
    server's processes and the database's backends for the scratch database: on a
    shared machine, CPU per command is steadier than commands per second."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid = server_pid
        self.database = database.encode()

    def read(self) -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        parents: dict[int, int] = {}
        used: dict[int, float] = {}
        backends: set[int] = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                pid = int(entry.name)
                parents[pid] = int(fields[1])
                used[pid] = (int(fields[11]) + int(fields[12])) / tick
                if self.database in (entry / "cmdline").read_bytes():
                    backends.add(pid)
        server = {self.server_pid} | {
            pid for pid, ppid in parents.items() if ppid == self.server_pid
        }
        return {
            "bench": time.process_time(),
            "server": sum(used.get(pid, 0.0) for pid in server),
            "postgres": sum(used.get(pid, 0.0) for pid in backends),
        }

    def measure(self, work: Callable[[], Phase]) -> Phase:
        before = self.read()
        phase = work()
        after = self.read()
        return replace(phase, cpu_seconds={k: after[k] - before[k] for k in before})


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


# A lean HTTP/1.1 client: the load generator shares two cores with the server
# and PostgreSQL, so it must cost as little CPU per request as possible.


class HttpError(Exception):
    """An unexpected status; the message holds the response body."""


class Connection:
    """One keep-alive HTTP/1.1 connection to the API on the loopback interface."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(LOOPBACK, self.port)
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()

    def encode(self, method: str, path: str, body: Any, extra: str = "") -> bytes:
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {LOOPBACK}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{extra}\r\n"
        )
        return head.encode() + payload

    async def send(self, request: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, answer = await self.send(self.encode(method, path, body))
        if status != expect:
            raise HttpError(f"{method} {path} -> {status}: {answer[:300]!r}")
        return json.loads(answer)


async def in_parallel(
    jobs: Sequence[Callable[[Connection], Awaitable[Any]]], port: int, token: str, width: int
) -> list[Any]:
    """Run the jobs over `width` connections, in order of the list, results in order."""
    results: list[Any] = [None] * len(jobs)
    queue = iter(enumerate(jobs))

    async def worker() -> None:
        async with Connection(port, token) as connection:
            for index, job in queue:
                results[index] = await job(connection)

    await asyncio.gather(*(worker() for _ in range(min(width, len(jobs)))))
    return results


# Setting up pairs through the API ---------------------------------------------


@dataclass(frozen=True)
class Pair:
    relationship_id: str
    mentor_token: str


async def matched_pairs(port: int, count: int, width: int) -> list[Pair]:
    """`count` matched pairs in one scheme that needs no mentor acceptance."""
    admin = Connection(port, ADMIN_TOKEN)
    async with admin:
        scheme = await admin.call(
            "POST",
            "/v1/schemes",
            {
                "name": "Benchmark scheme",
                "matching_model": "assigned",
                "require_mentor_acceptance": False,
                "cohorts": [{"name": "2026", "eligible_count": count}],
            },
            expect=201,
        )
    scheme_id = scheme["id"]
    mentors_needed = math.ceil(count / MENTOR_CAPACITY)

    def register_mentor(n: int) -> Callable[[Connection], Awaitable[str]]:
        async def job(c: Connection) -> str:
            body = {
                "scheme_id": scheme_id, "name": f"Dr Mentor {n}",
                "email": f"mentor{n}@example.nhs.uk", "grade": "consultant",
                "specialty": "cardiology", "institution": "St Elsewhere",
                "capacity": MENTOR_CAPACITY,
            }  # fmt: skip
            return str((await c.call("POST", "/v1/mentors", body, 201))["id"])

        return job

    def request_for_new_mentee(n: int) -> Callable[[Connection], Awaitable[str]]:
        async def job(c: Connection) -> str:
            body = {
                "scheme_id": scheme_id, "cohort": "2026", "name": f"Dr Mentee {n}",
                "email": f"mentee{n}@example.nhs.uk", "grade": "CT1",
                "specialty": "cardiology", "specialty_decided": True,
                "institution": "Royal Infirmary",
            }  # fmt: skip
            mentee = await c.call("POST", "/v1/mentees", body, 201)
            request = {"scheme_id": scheme_id, "mentee_id": mentee["id"]}
            return str((await c.call("POST", "/v1/relationships", request, 201))["id"])

        return job

    # Inviting takes a place on the mentor: one job per mentor keeps the invites of
    # a mentor in sequence, so they cannot conflict.
    def invite_and_issue_token(
        mentor_id: str, relationship_ids: list[str]
    ) -> Callable[[Connection], Awaitable[list[Pair]]]:
        async def job(c: Connection) -> list[Pair]:
            for relationship_id in relationship_ids:
                path = f"/v1/relationships/{relationship_id}/invite"
                await c.call("POST", path, {"mentor_id": mentor_id})
            body = {"role": "mentor", "label": "benchmark", "subject_id": mentor_id}
            token = str((await c.call("POST", "/v1/tokens", body, 201))["token"])
            return [Pair(r, token) for r in relationship_ids]

        return job

    mentor_ids = await in_parallel(
        [register_mentor(n) for n in range(mentors_needed)], port, ADMIN_TOKEN, width
    )
    relationship_ids = await in_parallel(
        [request_for_new_mentee(n) for n in range(count)], port, ADMIN_TOKEN, width
    )
    places = [relationship_ids[i : i + MENTOR_CAPACITY] for i in range(0, count, MENTOR_CAPACITY)]
    per_mentor = await in_parallel(
        [invite_and_issue_token(m, rs) for m, rs in zip(mentor_ids, places, strict=True)],
        port,
        ADMIN_TOKEN,
        width,
    )
    return list(itertools.chain.from_iterable(per_mentor))


# The two paths under load -------------------------------------------------------


async def api_phase(
    port: int, pairs: Sequence[Pair], turn: Iterator[int], clients: int, seconds: float,
    idempotency_keys: bool, round_: int,
) -> Phase:  # fmt: skip
    """Log meetings through the API from `clients` connections for `seconds`."""
    today = datetime.now(UTC).date().isoformat()
    body = {"held_on": today, "mode": "video", "duration_minutes": 45}
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with Connection(port, ADMIN_TOKEN) as connection:
            while time.perf_counter() < deadline:
                pair = pairs[next(turn) % len(pairs)]
                connection.token = pair.mentor_token
                extra = f"Idempotency-Key: {uuid.uuid4()}\r\n" if idempotency_keys else ""
                path = f"/v1/relationships/{pair.relationship_id}/meetings"
                request = connection.encode("POST", path, body, extra)
                started = time.perf_counter()
                status, _ = await connection.send(request)
                if status == 201:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Phase("api", round_, time.perf_counter() - started, latencies, errors)


async def open_loop_phase(
    port: int, pairs: Sequence[Pair], turn: Iterator[int], rate: float, seconds: float,
    idempotency_keys: bool, round_: int,
) -> Phase:  # fmt: skip
    """Log meetings through the API at `rate` a second for `seconds`, each sent when
    it is due whether or not earlier ones have been answered (open loop), over as
    many keep-alive connections as are in flight at once. Latency counts from when
    a request was due, so time spent waiting for a connection counts too."""
    today = datetime.now(UTC).date().isoformat()
    body = {"held_on": today, "mode": "video", "duration_minutes": 45}
    latencies: list[float] = []
    errors = 0
    idle: list[Connection] = []
    opened: list[Connection] = []

    async def one(due: float) -> None:
        nonlocal errors
        if idle:
            connection = idle.pop()
        else:
            connection = await Connection(port, ADMIN_TOKEN).__aenter__()
            opened.append(connection)
        pair = pairs[next(turn) % len(pairs)]
        connection.token = pair.mentor_token
        extra = f"Idempotency-Key: {uuid.uuid4()}\r\n" if idempotency_keys else ""
        path = f"/v1/relationships/{pair.relationship_id}/meetings"
        try:
            status, _ = await connection.send(connection.encode("POST", path, body, extra))
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            return
        if status == 201:
            latencies.append((time.perf_counter() - due) * 1000)
        else:
            errors += 1
        idle.append(connection)

    started = time.perf_counter()
    sending: list[asyncio.Task[None]] = []
    for n in range(round(rate * seconds)):
        due = started + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        sending.append(asyncio.create_task(one(due)))
    await asyncio.gather(*sending)
    elapsed = time.perf_counter() - started
    for connection in opened:
        await connection.__aexit__()
    return Phase("api", round_, elapsed, latencies, errors, connections=len(opened))


class Dot(Aggregate):
    """The most trivial aggregate: created, and nothing else."""


def bare_env(database_url: str, cipher_key: str | None) -> dict[str, str]:
    """The service's event store settings with eventsourcing's own recorder, not the
    service's (services.recorder): the baseline is eventsourcing as it comes."""
    env = postgres_env(database_url, cipher_key)
    del env["APPLICATION_RECORDER_TOPIC"]
    return env


class Bare(Application[uuid.UUID]):
    """A plain application, with its own events table in the same database."""

    name = "bare"


def bare_phase(app: Application[uuid.UUID], threads: int, seconds: float, round_: int) -> Phase:
    """Save new one-event aggregates from `threads` threads for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    deadline = time.perf_counter() + seconds

    def saver(mine: list[float], n: int) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                app.save(Dot())
            except Exception:
                errors[n] += 1
                continue
            mine.append((time.perf_counter() - started) * 1000)

    workers = [
        threading.Thread(target=saver, args=(latencies[n], n), daemon=True) for n in range(threads)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    return Phase("bare", round_, elapsed, list(itertools.chain(*latencies)), sum(errors))


# The API server in a subprocess -------------------------------------------------


def serving_app() -> Any:
    """The uvicorn factory each server worker calls: the real app, configured only by
    MENTORING_* variables, on the runtime `mentoring api --workers N` gives it (one
    of each worker's own when N is over 1: services.serving)."""
    from services.api.app import create_app
    from services.bootstrap import build_runtime, build_worker_runtime

    settings = Settings.from_env()
    build = build_runtime if settings.api_workers == 1 else build_worker_runtime
    return create_app(build(settings))


def serve(port: int, workers: int) -> None:
    import uvicorn

    from services.serving import WORKER_HEALTHCHECK_SECONDS

    uvicorn.run(
        "bench.bench_api:serving_app",
        factory=True,
        host=LOOPBACK,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the benchmark dies, so no server is left behind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def api_server(
    database_url: str, cipher_key: str | None, workers: int
) -> Iterator[tuple[int, int]]:
    """uvicorn serving the API on a free loopback port; yields its port and pid."""
    port = free_port()
    env = os.environ | {
        "MENTORING_DATABASE_URL": database_url,
        "MENTORING_ADMIN_TOKEN": ADMIN_TOKEN,
        "MENTORING_HOST": LOOPBACK,
        "MENTORING_PORT": str(port),
        "MENTORING_API_WORKERS": str(workers),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("MENTORING_CIPHER_KEY", None)
    if cipher_key:
        env["MENTORING_CIPHER_KEY"] = cipher_key
    command = [sys.executable, __file__, "serve", "--port", str(port), "--workers", str(workers)]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=log, cwd=ROOT, preexec_fn=_die_with_parent
        )
        try:
            wait_until_healthy(port, server, log)
            yield port, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(port: int, server: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the API server exited:\n{log.read().decode()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 1) as s:
            s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {LOOPBACK}\r\n\r\n".encode())
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.1)
    raise RuntimeError("the API server did not become healthy within 90 s")


# The database ---------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new database on the local server, dropped afterwards; yields its URL."""
    host = conninfo_to_dict(server_url).get("host")
    if host not in (LOOPBACK, "localhost") and not str(host or "").startswith("/"):
        raise SystemExit(f"bench_api: PostgreSQL must be local (127.0.0.1), not {host!r}")
    with shared_scratch_database(server_url) as url:
        yield url


def prepare_tables(database_url: str) -> None:
    """Create the service's tables once, before several server workers race to."""
    from services.bootstrap import build_runtime

    build_runtime(Settings.from_env({"MENTORING_DATABASE_URL": database_url})).close()


def server_version(database_url: str) -> str:
    with psycopg.connect(database_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


# Running it ---------------------------------------------------------------------


def run(args: argparse.Namespace) -> list[Phase]:
    """Set up, warm up, then alternate timed bare and api phases."""
    cipher_key = create_cipher_key() if args.cipher else None
    phases: list[Phase] = []
    with scratch_database(args.database) as database_url:
        prepare_tables(database_url)
        with api_server(database_url, cipher_key, args.server_workers) as (port, server_pid):
            meter = CpuMeter(server_pid, str(conninfo_to_dict(database_url)["dbname"]))
            started = time.perf_counter()
            pairs = run_async(matched_pairs(port, args.pairs, args.clients), limit=60)
            print_setup(args, database_url, len(pairs), time.perf_counter() - started)
            turn = itertools.count()
            bare = Bare(env=bare_env(database_url, cipher_key))
            try:
                for round_ in range(args.rounds + 1):  # round 0 is the warm-up
                    seconds = args.seconds if round_ else args.warmup
                    if args.open_loop_rate:
                        sent = open_loop_phase(
                            port, pairs, turn, args.open_loop_rate, seconds,
                            args.idempotency_keys, round_,
                        )  # fmt: skip
                        keep(phases, meter.measure(partial(run_async, sent, seconds + 30)))
                        continue
                    saving = partial(bare_phase, bare, args.clients, seconds, round_)
                    keep(phases, meter.measure(saving))
                    api = api_phase(
                        port, pairs, turn, args.clients, seconds, args.idempotency_keys, round_
                    )
                    keep(phases, meter.measure(partial(run_async, api, seconds + 30)))
            finally:
                bare.close()
            print(
                f"history:     {next(turn) / len(pairs):.1f} meetings logged per pair by the end;"
                f" load average {os.getloadavg()[0]:.1f}"
            )
    return phases


def keep(phases: list[Phase], phase: Phase) -> None:
    """Print and keep a timed phase; forget a warm-up."""
    if phase.round:
        print_phase(phase)
        phases.append(phase)


def run_async(work: Coroutine[Any, Any, T], limit: float) -> T:
    """Run a coroutine on uvloop (less client CPU) when installed, within `limit` s."""

    async def bounded() -> T:
        async with asyncio.timeout(limit):
            return await work

    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(bounded())


def print_setup(args: argparse.Namespace, database_url: str, pairs: int, seconds: float) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    print(
        f"machine:     {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"load average {os.getloadavg()[0]:.1f} before the timed phases"
    )
    print(
        f"software:    Python {platform.python_version()}, "
        f"PostgreSQL {server_version(database_url)} on {LOOPBACK}"
    )
    print(
        f"api:         POST /v1/relationships/{{id}}/meetings by the pair's mentor, "
        f"{pairs} matched pairs (set up through the API in {seconds:.1f} s), "
        f"Idempotency-Key {'on' if args.idempotency_keys else 'off'}, "
        f"encryption {'on' if args.cipher else 'off'}"
    )
    if args.open_loop_rate:
        print(
            f"open loop:   {args.open_loop_rate:g} requests/s sent when due, answered or not; "
            f"uvicorn with {args.server_workers} worker process(es), access log off; no bare path"
        )
    else:
        print("bare:        Application.save(<new one-event aggregate>), same database")
        print(
            f"concurrency: {args.clients} keep-alive connections (api) / {args.clients} threads "
            f"(bare); uvicorn with {args.server_workers} worker process(es), access log off"
        )
    print(f"phases:      {args.warmup:g} s warm-up each, then {args.rounds} x {args.seconds:g} s")
    print()
    print(
        "round path  commands   per_s  p50_ms  p99_ms errors"
        "   CPU ms per command: bench  server postgres"
    )


def cpu_per_command(phases: Sequence[Phase]) -> str:
    commands = sum(p.commands for p in phases) or 1
    return " ".join(
        f"{1000 * sum(p.cpu_seconds.get(k, 0.0) for p in phases) / commands:>6.2f}"
        for k in ("bench", "server", "postgres")
    )


def print_phase(phase: Phase) -> None:
    print(
        f"{phase.round:>5} {phase.path:<5} {phase.commands:>8} {phase.per_second:>7.0f}"
        f" {percentile(phase.latencies_ms, 0.5):>7.1f} {percentile(phase.latencies_ms, 0.99):>7.1f}"
        f" {phase.errors:>6}                       {cpu_per_command([phase])}",
        flush=True,
    )


def print_open_loop_summary(phases: Sequence[Phase], rate: float) -> None:
    print()
    latencies = list(itertools.chain.from_iterable(p.latencies_ms for p in phases))
    answered = len(latencies) / sum(p.seconds for p in phases)
    p99 = percentile(latencies, 0.99)
    print(
        f"open loop at {rate:g}/s: {answered:.0f} commands/s answered"
        f"  p50 {percentile(latencies, 0.5):5.1f} ms  p99 {p99:5.1f} ms"
        f"  ({'meets' if p99 <= 50 else 'ABOVE'} the 50 ms target)"
        f"  errors {sum(p.errors for p in phases)}"
        f"  connections at most {max(p.connections for p in phases)}"
        f"  CPU ms/command (bench server postgres) {cpu_per_command(phases)}"
    )


def print_summary(phases: Sequence[Phase]) -> None:
    print()
    totals: dict[str, float] = {}
    for path in ("bare", "api"):
        mine = [p for p in phases if p.path == path]
        latencies = list(itertools.chain.from_iterable(p.latencies_ms for p in mine))
        totals[path] = len(latencies) / sum(p.seconds for p in mine)
        print(
            f"{path:<4} {totals[path]:5.0f} commands/s  p50 {percentile(latencies, 0.5):5.1f} ms"
            f"  p99 {percentile(latencies, 0.99):5.1f} ms"
            f"  errors {sum(p.errors for p in mine)}"
            f"  CPU ms/command (bench server postgres) {cpu_per_command(mine)}"
        )
    ratio = totals["api"] / totals["bare"]
    verdict = "meets" if ratio >= 0.7 else "BELOW"
    # Each api phase is compared with the bare phase just before it, so a burst of
    # load from elsewhere on the machine moves one round, not the median.
    rounds = sorted({p.round for p in phases})
    per_round = [
        next(p for p in phases if p.round == r and p.path == "api").per_second
        / next(p for p in phases if p.round == r and p.path == "bare").per_second
        for r in rounds
    ]
    print(
        f"ratio api/bare: {ratio:.2f} ({verdict} the 0.70 target); by round "
        f"{', '.join(f'{r:.2f}' for r in per_round)}, median {statistics.median(per_round):.2f}"
    )


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    top.add_argument("--database", default=LOCAL_SERVER, help="a local PostgreSQL server URL")
    top.add_argument("--clients", type=int, default=8, help="connections, and save threads")
    top.add_argument("--server-workers", type=worker_count, default=1, help="uvicorn processes")
    top.add_argument("--pairs", type=int, default=1000, help="matched pairs to log meetings on")
    top.add_argument("--seconds", type=float, default=5, help="length of each timed phase")
    top.add_argument("--warmup", type=float, default=2, help="untimed phase per path")
    top.add_argument("--rounds", type=int, default=4, help="bare+api phase pairs")
    top.add_argument("--idempotency-keys", action="store_true", help="send Idempotency-Key")
    top.add_argument(
        "--open-loop-rate",
        type=float,
        default=0,
        help="api only, sending this many requests a second whatever the answers",
    )
    top.add_argument("--cipher", action="store_true", help="encrypt events on both paths")
    top.add_argument("--budget", type=int, default=115, help="abort after this many seconds")
    commands = top.add_subparsers(dest="command")
    serving = commands.add_parser("serve", help="(internal) run the API server")
    serving.add_argument("--port", type=int, required=True)
    serving.add_argument("--workers", type=int, default=1)
    return top.parse_args(argv)


class OutOfTime(Exception):
    """The run went over its --budget; everything it started is stopped and dropped."""


def _out_of_time(signum: int, frame: object) -> None:
    raise OutOfTime("bench_api: over its time budget; stopped and cleaned up")


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    if args.command == "serve":
        serve(args.port, args.workers)
        return
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(args.budget)
    try:
        phases = run(args)
    except OutOfTime as error:
        sys.exit(str(error))
    finally:
        signal.alarm(0)
    if args.open_loop_rate:
        print_open_loop_summary(phases, args.open_loop_rate)
    else:
        print_summary(phases)


if __name__ == "__main__":
    main()
