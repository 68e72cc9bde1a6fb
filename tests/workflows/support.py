"""Schemes, people and relationships for workflow tests, integration tests and the
benchmark: built with the Mentoring application, people named only by ids."""

import asyncio
import inspect
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from domain.actors import Actor
from services.application import Mentoring
from workflows.devserver import DevServer, free_port, start_dev_server
from workflows.relay import LIFECYCLE_TOPICS

COORDINATOR = Actor(role="coordinator", id="coordinator-1")
ROOT = Path(__file__).resolve().parents[2]


def create_scheme(
    mentoring: Mentoring,
    *,
    matching_model: str = "mentee_choice",
    require_mentor_acceptance: bool = True,
    **timers: str,
) -> UUID:
    """A scheme whose timers are the defaults except those given (ISO 8601)."""
    saved = mentoring.create_scheme(
        {
            "name": f"Scheme {uuid.uuid4().hex[:6]}",
            "matching_model": matching_model,
            "require_mentor_acceptance": require_mentor_acceptance,
            "timers": timers,
        },
        COORDINATOR,
    )
    return saved.aggregate.id


def register_mentor(mentoring: Mentoring, scheme_id: UUID, capacity: int = 3) -> UUID:
    profile: dict[str, Any] = {
        "scheme_id": scheme_id,
        "name": "Mentor",
        "email": "mentor@example.org",
        "grade": "consultant",
        "specialty": "cardiology",
        "institution": "Trust A",
        "interests": ["research"],
        "capacity": capacity,
        "trained_on": None,
    }
    return mentoring.register_mentor(profile, COORDINATOR).aggregate.id


def request_mentor(mentoring: Mentoring, scheme_id: UUID) -> UUID:
    """Register a mentee and open their request; the relationship's id."""
    profile: dict[str, Any] = {
        "scheme_id": scheme_id,
        "cohort": "",
        "name": "Mentee",
        "email": "mentee@example.org",
        "grade": "ST3",
        "specialty": "cardiology",
        "specialty_decided": True,
        "institution": "Trust B",
        "interests": ["research"],
        "objectives": [],
        "line_manager_ids": [],
        "demographics": None,
    }
    mentee_id = mentoring.register_mentee(profile, COORDINATOR).aggregate.id
    return mentoring.request_mentor(scheme_id, mentee_id, [], COORDINATOR).aggregate.id


def log_meeting(mentoring: Mentoring, relationship_id: UUID, today: datetime) -> None:
    mentoring.log_meeting(relationship_id, today.date(), "video", 60, COORDINATOR)


def event_names(mentoring: Mentoring, relationship_id: UUID) -> list[str]:
    return [type(event).__name__ for event in mentoring.relationship_events(relationship_id)]


def recorded(mentoring: Mentoring, relationship_id: UUID, name: str) -> list[Any]:
    """The relationship's recorded events of one kind."""
    return [
        event
        for event in mentoring.relationship_events(relationship_id)
        if type(event).__name__ == name
    ]


def start_process(role: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`mentoring <role>` (worker or relay) with the given MENTORING_* settings, its
    output in `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", role],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def dev_server(var_dir: Path, *namespaces: str, port: int | None = None) -> Iterator[DevServer]:
    """A headless Temporal dev server on a free port, stopped on exit."""
    server = start_dev_server(
        var_dir, port=port or free_port(), ui_port=None, namespaces=("default", *namespaces)
    )
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def in_background(
    run: Callable[..., Awaitable[None]], *args: Any, **kwargs: Any
) -> AsyncIterator["asyncio.Task[None]"]:
    """Run `serve_worker` or `serve_relay` (services.bootstrap; args before `stop`,
    then keywords) as a task; stop it and wait for it on exit."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(*args, stop, **kwargs))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float,
    what: str,
    interval: float = 0.2,
) -> None:
    """Poll `condition` (plain or async) until it holds; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = condition()
        if await answer if inspect.isawaitable(answer) else answer:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(interval)


def lifecycle_counts(mentoring: Mentoring) -> tuple[dict[str, int], int]:
    """How many lifecycle events each relationship has, and the position of the last."""
    counts: dict[str, int] = {}
    last, start = 0, 1
    while True:
        page = mentoring.recorder.select_notifications(start, 1000, topics=LIFECYCLE_TOPICS)
        for notification in page:
            key = str(notification.originator_id)
            counts[key] = counts.get(key, 0) + 1
            last = notification.id
        if len(page) < 1000:
            return counts, last
        start = last + 1


def relay_position(database_url: str) -> int:
    """The position the relay has recorded as delivered (0 before it has any)."""
    with psycopg.connect(database_url) as connection:
        try:
            row = connection.execute(
                "SELECT notification_id FROM relay_tracking WHERE application_name = 'mentoring'"
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


@contextmanager
def database_copy(database_url: str) -> Iterator[str]:
    """A copy of the database (nothing may be connected to it while copying)."""
    source = conninfo_to_dict(database_url)["dbname"]
    name = f"{source}_copy"
    server = make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    try:
        yield make_conninfo(database_url, dbname=name)
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
