"""Exactly once: a projection runner killed at any point, restarted, or run beside
another, leaves every table as a rebuild from the events makes it; the live
runner gives read-your-writes; the library's own ProjectionRunner builds the same
table one event per transaction."""

import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from eventsourcing.projection import ProjectionRunner

from domain.actors import Actor
from projections import queries, runner
from projections.registry import PROJECTIONS
from projections.relationships import RelationshipsProjection, RelationshipsView
from services import bootstrap
from services.application import Mentoring
from services.persistence import create_cipher_key
from tests.support.clock import Clock
from tests.support.mentoring import (
    ADMIN,
    mentee_profile,
    mentoring,
    project,
    rows,
    scheme_settings,
)
from tests.support.scripted_scheme import play
from tests.support.settings import settings_for
from tests.support.tables import snapshot
from tests.support.workload import Workload

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def stream(workload: Workload, stop: threading.Event, rng: random.Random) -> None:
    """Write events in small saves until stopped, as people and timers would."""
    while not stop.is_set():
        workload.tick(rng.randint(1, 8))
        time.sleep(rng.uniform(0.0, 0.02))


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def started_working(conn: psycopg.Connection, before: int, pid: int, within: float = 30.0) -> None:
    """Wait until the runner `pid` has moved the audit log on from `before`."""
    deadline = time.monotonic() + within
    while queries.projection_positions(conn).get("audit_log", 0) <= before:
        assert not gone(pid), "the runner ended by itself before it did any work"
        assert time.monotonic() < deadline, "the runner did no work in time"
        time.sleep(0.01)


def test_runner_killed_twenty_times_leaves_the_tables_a_rebuild_makes(database_url: str) -> None:
    rng = random.Random(20)
    bootstrap.create_reporting_schema(settings_for(database_url))
    stop = threading.Event()
    positions: list[dict[str, int]] = []
    heads: list[int] = []
    with mentoring(database_url) as app:
        writer = threading.Thread(target=stream, args=(Workload(app, seed=20), stop, rng))
        writer.start()
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.support.projector", database_url, "20"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        )
        assert server.stdin is not None and server.stdout is not None
        try:
            with psycopg.connect(database_url, autocommit=True) as conn:
                for _ in range(20):
                    before = queries.projection_positions(conn).get("audit_log", 0)
                    server.stdin.write("start\n")
                    server.stdin.flush()
                    pid = int(server.stdout.readline())
                    # Killed at a random moment once it is at work: on a busy machine
                    # a runner takes longer to start than to catch up on a quiet one.
                    started_working(conn, before, pid)
                    time.sleep(rng.uniform(0.0, 0.3))
                    assert not gone(pid), "the runner ended by itself before it was killed"
                    os.kill(pid, signal.SIGKILL)
                    while not gone(pid):
                        time.sleep(0.005)
                    positions.append(queries.projection_positions(conn))
                    heads.append(queries.head_position(conn))
        finally:
            stop.set()
            writer.join()
            server.stdin.close()
            server.wait(timeout=10)
    # Runners did work between kills, and were killed while behind the head.
    audit = [p["audit_log"] for p in positions]
    assert sum(later > earlier for earlier, later in itertools.pairwise(audit)) >= 3
    assert sum(p < head for p, head in zip(audit, heads, strict=True)) >= 3
    project(database_url, batch_size=1000)
    live = snapshot(database_url)
    assert len(live["audit_log"]) == queries_head(database_url) > 1000
    for name in PROJECTIONS:
        bootstrap.rebuild(settings_for(database_url), name)
    assert snapshot(database_url) == live


def queries_head(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return queries.head_position(conn)


def test_two_runners_at_once_and_a_rebuild_beside_them_agree(database_url: str) -> None:
    names = ["evaluation", "mentor_load"]
    with mentoring(database_url) as app:
        Workload(app, seed=3).write(1500, events_per_save=100)
    stop = threading.Event()
    runners = [
        threading.Thread(
            target=bootstrap.run_projections,
            args=(settings_for(database_url), stop),
            kwargs={"names": names, "batch_size": 13, "poll_interval": 0.05},
        )
        for _ in range(2)
    ]
    for thread in runners:
        thread.start()
    try:
        result = bootstrap.rebuild(settings_for(database_url), "evaluation", batch_size=17)
        with psycopg.connect(database_url) as conn:
            assert queries.wait_for_position(conn, result.position, timeout=30, projections=names)
    finally:
        stop.set()
        for thread in runners:
            thread.join()
    live = snapshot(database_url)
    for name in names:
        bootstrap.rebuild(settings_for(database_url), name)
    assert snapshot(database_url) == live


def test_live_runner_gives_read_your_writes(database_url: str) -> None:
    bootstrap.create_reporting_schema(settings_for(database_url))
    stop = threading.Event()
    live = threading.Thread(
        target=bootstrap.run_projections, args=(settings_for(database_url), stop)
    )
    live.start()
    try:
        with mentoring(database_url) as app, psycopg.connect(database_url) as conn:
            scheme = app.create_scheme(scheme_settings(cohorts=[]), ADMIN).aggregate.id
            mentee = app.register_mentee(mentee_profile(scheme, "2024"), ADMIN).aggregate.id
            for _ in range(5):
                saved = app.request_mentor(scheme, mentee, [], Actor("mentee", str(mentee)))
                assert queries.wait_for_position(conn, saved.position, timeout=5)
                row = queries.relationship(conn, saved.aggregate.id)
                assert row is not None and row["state"] == "requested"
                assert len(queries.audit_entries(conn)["items"]) == saved.position
                app.end(saved.aggregate.id, "withdrawn", None, ADMIN)
    finally:
        stop.set()
        live.join()


def test_the_librarys_projection_runner_builds_the_same_table(database_url: str) -> None:
    """Each projection is an eventsourcing Projection: the library's runner (one event
    per transaction) and ours (batches) give the same rows."""
    with mentoring(database_url) as app:
        play(app, Clock())
    # The library's runner tracks only the events of the projection's topics.
    last = rows(
        database_url,
        "SELECT max(notification_id) FROM mentoring_events "
        "WHERE topic LIKE 'domain.relationship:%'",
    )[0][0]
    with (
        bootstrap.reporting(settings_for(database_url)) as (_, database),
        ProjectionRunner(
            application_class=Mentoring,
            projection_class=RelationshipsProjection,
            view_class=RelationshipsView,
            env=runner.view_env(database, "relationships"),
        ) as library_runner,
    ):
        library_runner.wait(last, timeout=10)
    by_library = snapshot(database_url)["relationships"]
    bootstrap.rebuild(settings_for(database_url), "relationships")
    assert snapshot(database_url)["relationships"] == by_library
    assert len(by_library) == 5


def test_a_projection_whose_definition_changed_is_rebuilt(database_url: str) -> None:
    """After an upgrade that changes a table (here: as if `mentor_load` had been made
    by an older version without a column), the runner rebuilds it by itself."""
    with mentoring(database_url) as app:
        play(app, Clock())
    project(database_url, batch_size=500)
    current = snapshot(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE reporting.mentor_load DROP COLUMN invitations_withdrawn")
        conn.execute(
            "UPDATE reporting.projection_definitions SET digest = 'older' "
            "WHERE name = 'mentor_load'"
        )
    project(database_url, batch_size=500)
    assert snapshot(database_url) == current


def test_encrypted_events_are_projected(database_url: str) -> None:
    key = create_cipher_key()
    with mentoring(database_url, cipher_key=key) as app:
        scheme = app.create_scheme(scheme_settings(name="Encrypted"), ADMIN).aggregate.id
    stored = rows(database_url, "SELECT state FROM mentoring_events")
    assert b"Encrypted" not in bytes(stored[0][0])
    project(database_url, cipher_key=key)
    with psycopg.connect(database_url) as conn:
        entry = queries.audit_entries(conn)["items"][0]
    assert (entry["aggregate_id"], entry["details"]["name"]) == (str(scheme), "Encrypted")
