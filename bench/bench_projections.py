"""Projection throughput and lag on real PostgreSQL, with reference speeds measured in
the same run on the same database (so ratios hold on a busy machine).

    .venv/bin/python -m bench.bench_projections --events 1000000

1. writes N events (the journeys of tests/support/workload.py, saved in batches);
2. reads them raw (no decoding), then read + decoded by the application's mapper
   a page at a time as a rebuild reads (the decoded read rate), and one at a time;
3. COPYs N audit-like rows into a plain table (no indexes);
4. rebuilds `evaluation` and `audit_log` (then the others) from the events, then
   all of them in one pass (events/s, and ratios to 2. and 3.);
5. runs every projection in a separate process while R events/s are written, and
   reports the lag from each save to each projection's commit of it (p50/p99).

Uses a scratch database on $MENTORING_TEST_DATABASE_URL's server (else the local
server, else pgserver), dropped at the end unless --keep.
"""

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg

from projections import runner
from projections.registry import PROJECTIONS
from services import bootstrap
from services.application import Mentoring
from services.persistence import postgres_env
from tests.support.databases import scratch_database, server_url
from tests.support.settings import settings_for
from tests.support.workload import Workload


@contextmanager
def database(url: str | None, keep: bool) -> Iterator[str]:
    if url:
        yield url
        return
    with server_url() as server:
        if keep:
            name = f"bench_projections_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(server, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
            yield psycopg.conninfo.make_conninfo(server, dbname=name)
            return
        with scratch_database(server) as scratch:
            yield scratch


def write_events(url: str, events: int) -> dict[str, float]:
    app = Mentoring(env=postgres_env(url))
    try:
        started = time.perf_counter()
        written = Workload(app, seed=1, concurrency=2000).write(events, events_per_save=2000)
        seconds = time.perf_counter() - started
    finally:
        app.close()
    return {"events": written, "seconds": seconds, "events_per_s": written / seconds}


def read_raw(url: str, decode: str | None) -> dict[str, float]:
    """Read every event: raw (`decode` None), decoded a page at a time as a rebuild
    does ("page": one key look-up per page), or one event at a time ("each": a key
    look-up per person whose key is not cached)."""
    with bootstrap.reporting(settings_for(url)) as (app, _):
        started = time.perf_counter()
        position, count = 0, 0
        while True:
            page = app.recorder.select_notifications(
                start=position, limit=10000, inclusive_of_start=False
            )
            if not page:
                break
            if decode == "page":
                runner.decode(app.mapper, page)
            elif decode == "each":
                for notification in page:
                    app.mapper.to_domain_event(notification)
            count += len(page)
            position = page[-1].id
        seconds = time.perf_counter() - started
    return {"events": count, "seconds": seconds, "events_per_s": count / seconds}


def copy_plain(url: str, rows: int) -> dict[str, float]:
    """COPY `rows` rows shaped like audit rows into a table without indexes."""
    details = json.dumps({"held_on": "2024-03-10", "mode": "video", "duration_minutes": 60})
    now = datetime.now(UTC)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE bench_copy (position bigint, recorded_at timestamptz, "
            "aggregate_id uuid, event_type text, actor_id text, details jsonb, hash text)"
        )
        started = time.perf_counter()
        with (
            connection.transaction(),
            connection.cursor() as curs,
            curs.copy("COPY bench_copy FROM STDIN") as copy,
        ):
            for position in range(1, rows + 1):
                copy.write_row(
                    (position, now, uuid.uuid4(), "Relationship.MeetingLogged", "m1",
                     details, "0" * 64)
                )  # fmt: skip
        seconds = time.perf_counter() - started
        connection.execute("DROP TABLE bench_copy")
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def rebuild(url: str, name: str, batch_size: int) -> dict[str, float]:
    cpu = time.process_time()
    result = bootstrap.rebuild(settings_for(url), name, batch_size=batch_size)
    return {
        "events": result.events,
        "position": result.position,
        "seconds": result.seconds,
        "events_per_s": result.events_per_second,
        "notifications_per_s": result.position / result.seconds,
        "cpu_seconds": time.process_time() - cpu,
    }


def rebuild_all(url: str, batch_size: int) -> dict[str, Any]:
    cpu = time.process_time()
    result = bootstrap.rebuild_all(settings_for(url), batch_size=batch_size)
    return {
        "events": result.events,
        "position": result.position,
        "seconds": result.seconds,
        "events_per_s": result.events_per_second,
        "notifications_per_s": result.position / result.seconds,
        "cpu_seconds": time.process_time() - cpu,
        "applied": result.applied,
    }


def projector(url: str) -> None:
    """Child process: run every projection, printing `name position time` per batch."""

    lock = threading.Lock()

    def report(name: str, position: int) -> None:
        line = f"{name} {position} {time.time()}\n"
        with lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    stop = threading.Event()

    def stop_when_stdin_closes() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    bootstrap.run_projections(settings_for(url), stop, on_batch=report, poll_interval=0.5)


def live_lag(url: str, rate: float, seconds: float) -> dict[str, Any]:
    bootstrap.catch_up(settings_for(url), batch_size=10000)
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_projections", "--projector", url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    batches: list[tuple[str, int, float]] = []

    def read_batches() -> None:
        for line in child.stdout or ():
            fields = line.split()
            if len(fields) == 3 and fields[0] in PROJECTIONS:
                batches.append((fields[0], int(fields[1]), float(fields[2])))
            else:
                print("projector:", line.rstrip(), file=sys.stderr)

    reader = threading.Thread(target=read_batches)
    reader.start()
    time.sleep(2.0)  # the child starts and catches up
    saves: list[tuple[int, float]] = []
    app = Mentoring(env=postgres_env(url))
    try:
        workload = Workload(app, seed=2, concurrency=500)
        started, written = time.perf_counter(), 0
        while (elapsed := time.perf_counter() - started) < seconds:
            due = int(elapsed * rate) - written
            if due > 0:
                count, last = workload.tick(max(1, round(due / 1.6)))
                written += count
                saves.append((last, time.time()))
            time.sleep(0.005)
        achieved = written / (time.perf_counter() - started)
    finally:
        app.close()
    time.sleep(3.0)  # let the projections finish
    child.stdin.close()
    child.wait(timeout=30)
    reader.join()
    return {"events_per_s": achieved, "saves": len(saves), **_lags(saves, batches)}


def _lags(saves: list[tuple[int, float]], batches: list[tuple[str, int, float]]) -> dict[str, Any]:
    per_projection: dict[str, list[float]] = {}
    for name in PROJECTIONS:
        commits = sorted((at, position) for n, position, at in batches if n == name)
        lags, index = [], 0
        for position, saved_at in saves:
            while index < len(commits) and commits[index][1] < position:
                index += 1
            if index < len(commits):
                lags.append(max(0.0, commits[index][0] - saved_at))
        per_projection[name] = lags
    every = [max(lags) for lags in zip(*per_projection.values(), strict=False)]

    def summary(lags: list[float]) -> dict[str, float]:
        if len(lags) < 2:
            return {"p50_ms": float("nan"), "p99_ms": float("nan"), "n": len(lags)}
        centiles = statistics.quantiles(lags, n=100)
        return {"p50_ms": centiles[49] * 1000, "p99_ms": centiles[98] * 1000, "n": len(lags)}

    return {
        "all_projections": summary(every),
        **{name: summary(lags) for name, lags in per_projection.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=20000)
    parser.add_argument("--all-batch-size", type=int, default=runner.ALL_BATCH_SIZE)
    parser.add_argument("--rate", type=float, default=500.0, help="live events/s")
    parser.add_argument("--lag-seconds", type=float, default=30.0)
    parser.add_argument("--database-url", help="use this database (events already written)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--all-only", action="store_true", help="rebuild all at once only, not each"
    )
    parser.add_argument("--projector", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.projector:
        projector(args.projector)
        return
    results: dict[str, Any] = {}
    with database(args.database_url, args.keep) as url:
        if not args.database_url:
            results["write"] = write_events(url, args.events)
            print("write", results["write"], flush=True)
        results["read_raw"] = read_raw(url, decode=None)
        print("read_raw", results["read_raw"], flush=True)
        results["read_decoded"] = read_raw(url, decode="page")
        print("read_decoded", results["read_decoded"], flush=True)
        results["read_decoded_each"] = read_raw(url, decode="each")
        print("read_decoded_each", results["read_decoded_each"], flush=True)
        results["copy"] = copy_plain(url, results["read_raw"]["events"])
        print("copy", results["copy"], flush=True)

        def ratios(result: dict[str, Any]) -> dict[str, Any]:
            rate = result["notifications_per_s"]
            return result | {
                "ratio_to_decoded_read": rate / results["read_decoded"]["events_per_s"],
                "ratio_to_raw_read": rate / results["read_raw"]["events_per_s"],
                "ratio_to_copy": rate / results["copy"]["rows_per_s"],
            }

        def beside(result: dict[str, Any], decoded: dict[str, float]) -> dict[str, Any]:
            """The ratio to the decoded read measured just before: the machine is
            shared, and its load drifts over a run."""
            rate = decoded["events_per_s"]
            return result | {
                "decoded_read_before_per_s": rate,
                "ratio_to_decoded_read_before": result["notifications_per_s"] / rate,
            }

        first = ["evaluation", "audit_log"]
        names = [] if args.all_only else first + [n for n in PROJECTIONS if n not in first]
        for name in names:
            decoded = read_raw(url, decode="page")
            result = beside(ratios(rebuild(url, name, args.batch_size)), decoded)
            results[f"rebuild_{name}"] = result
            print(f"rebuild {name}", result, flush=True)
        decoded = read_raw(url, decode="page")
        results["rebuild_all"] = beside(ratios(rebuild_all(url, args.all_batch_size)), decoded)
        print("rebuild_all", results["rebuild_all"], flush=True)
        if args.lag_seconds > 0:
            results["live"] = live_lag(url, args.rate, args.lag_seconds)
            print("live", json.dumps(results["live"], indent=1), flush=True)
        if args.keep and not args.database_url:
            print("kept database:", url)
    print(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
