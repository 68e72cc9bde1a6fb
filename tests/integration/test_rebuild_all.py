"""Rebuilding every projection in one pass (`runner.rebuild_all`, `mentoring
rebuild` without a name): the tables come out as the live runner builds them, a
page of events is decoded with one key look-up that still reads a destroyed key as
erased, progress is shown, a store with no events yet rebuilds to nothing, and a
projection that is not there is a one-line error."""

import os
import subprocess
import sys
import threading
import time
from uuid import UUID

import psycopg
import pytest

from domain.privacy import ERASED
from projections import queries, runner
from services import bootstrap
from tests.support.mentoring import mentoring, project
from tests.support.settings import settings_for
from tests.support.tables import snapshot
from tests.support.workload import Workload

pytestmark = pytest.mark.postgres
LIVE = ["relationships", "audit_log", "evaluation"]


def mentoring_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"MENTORING_DATABASE_URL": database_url},
    )


def erase_a_mentor(database_url: str) -> UUID:
    """Destroy the key of a mentor (as an erasure does first), returning their id."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT originator_id FROM mentoring_events WHERE topic LIKE '%Mentor.Registered'"
            " ORDER BY originator_id LIMIT 1"
        ).fetchone()
    assert row is not None
    with mentoring(database_url) as app:
        app.keys.destroy([row[0]])
    return UUID(str(row[0]))


def mentor_names(database_url: str) -> dict[UUID, str]:
    with psycopg.connect(database_url) as connection:
        found = connection.execute("SELECT mentor_id, name FROM reporting.mentor_profiles")
        return {row[0]: row[1] for row in found}


def test_all_rebuilt_in_one_pass_equal_the_tables_built_live(database_url: str) -> None:
    with mentoring(database_url) as app:
        written = Workload(app, seed=13).write(3000, events_per_save=200)
    erased = erase_a_mentor(database_url)
    project(database_url, batch_size=250)
    live = snapshot(database_url)
    assert len(live["audit_log"]) == written
    assert mentor_names(database_url)[erased] == ERASED
    progress: list[tuple[int, int]] = []
    result = bootstrap.rebuild_all(
        settings_for(database_url),
        batch_size=700,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert snapshot(database_url) == live
    assert result.events == written and result.position == progress[-1][0]
    assert result.applied["audit_log"] == written
    assert 0 < result.applied["relationships"] < written
    assert len(progress) == -(-written // 700)  # a page of 700 at a time
    assert [done for done, _ in progress] == sorted({done for done, _ in progress})
    names = mentor_names(database_url)
    assert names[erased] == ERASED
    assert sum(name == ERASED for name in names.values()) == 1


def test_a_page_decoded_at_once_equals_each_event_decoded_alone(database_url: str) -> None:
    with mentoring(database_url) as app:
        Workload(app, seed=14).write(600, events_per_save=100)
    erased = erase_a_mentor(database_url)
    with bootstrap.reporting(settings_for(database_url)) as (app, _):
        page = app.recorder.select_notifications(start=0, limit=10_000)
        at_once = runner.decode(app.mapper, page)
        alone = [app.mapper.to_domain_event(notification) for notification in page]
    assert [vars(event) for event in at_once] == [vars(event) for event in alone]
    theirs = [event for event in at_once if event.originator_id == erased]
    assert theirs and all(vars(event).get("name", ERASED) == ERASED for event in theirs)
    others = [e for e in at_once if type(e).__qualname__ == "Mentor.Registered"]
    assert any(e.name != ERASED for e in others)


def test_mentoring_rebuild_without_a_name_rebuilds_all_showing_progress(
    database_url: str,
) -> None:
    with mentoring(database_url) as app:
        written = Workload(app, seed=15).write(1500, events_per_save=200)
    project(database_url, batch_size=500)
    live = snapshot(database_url)
    rebuilt = mentoring_cli("rebuild", database_url=database_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith(f"rebuilt all 8 projections: {written} events to position")
    last = rebuilt.stderr.strip().splitlines()[-1]
    assert last.startswith("[####################]") and f"{written:,}/{written:,} events" in last
    assert "events/s, 0:00 left" in last
    assert snapshot(database_url) == live
    again = mentoring_cli("rebuild", "--all", database_url=database_url)
    assert again.returncode == 0, again.stderr
    assert snapshot(database_url) == live


def test_a_projection_that_is_not_there_is_a_one_line_error(database_url: str) -> None:
    nothing_yet = mentoring_cli("rebuild", database_url=database_url)
    assert nothing_yet.returncode == 0, nothing_yet.stderr
    assert nothing_yet.stdout.startswith("rebuilt all 8 projections: 0 events to position 0")
    unknown = mentoring_cli("rebuild", "audit", database_url=database_url)
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines() == [
        "mentoring: no projection 'audit'; the projections are: relationships, "
        "relationship_history, audit_log, stalled_pairs, mentor_load, evaluation, equity, "
        "erasure"
    ]
    both = mentoring_cli("rebuild", "audit_log", "--all", database_url=database_url)
    assert both.returncode == 2
    assert both.stderr.splitlines() == ["mentoring: rebuild takes a NAME or --all, not both"]


def test_a_live_runner_and_writes_beside_the_rebuild_leave_the_tables_a_rebuild_makes(
    database_url: str,
) -> None:
    stop, writing = threading.Event(), threading.Event()
    with mentoring(database_url) as app:
        workload = Workload(app, seed=16)
        workload.write(2000, events_per_save=100)
        head = project(database_url, batch_size=500)["audit_log"]
        beside = threading.Thread(
            target=bootstrap.run_projections,
            args=(settings_for(database_url), stop),
            # Three runners, not eight: the test server's connections are shared.
            kwargs={"names": LIVE, "batch_size": 13, "poll_interval": 0.05},
        )
        beside.start()

        def write() -> None:
            while not writing.is_set():
                workload.tick(5)
                time.sleep(0.01)

        writer = threading.Thread(target=write)
        try:
            workload.tick(5)
            with psycopg.connect(database_url) as conn:  # the runner is up and running
                assert queries.wait_for_position(conn, head + 1, timeout=30, projections=LIVE)
            writer.start()
            result = bootstrap.rebuild_all(settings_for(database_url), batch_size=300)
        finally:
            writing.set()
            if writer.is_alive():
                writer.join()
            stop.set()
            beside.join()
    assert result.position > head
    project(database_url)
    after = snapshot(database_url)
    bootstrap.rebuild_all(settings_for(database_url))
    assert snapshot(database_url) == after
