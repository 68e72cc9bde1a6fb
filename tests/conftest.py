"""Fixtures shared by every layer of tests."""

import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.support.databases import scratch_database, server_url
from tests.support.midnight import wait_for_midnight


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with server_url() as url:
        yield url


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with scratch_database(postgres_server) as url:
        yield url


def pytest_sessionstart(session: pytest.Session) -> None:
    """A whole run (no paths given) started just before midnight UTC waits for it to
    pass, before any test module is imported (tests.support.midnight)."""
    if session.config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    seconds = wait_for_midnight(datetime.now(UTC))
    if seconds:
        print(
            f"\nWaiting {seconds / 60:.1f} minutes for midnight UTC to pass: the tests fix "
            "today's date when they are imported (tests/support/midnight.py).",
            file=sys.__stderr__,
            flush=True,
        )
        time.sleep(seconds)


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """temporalio's native runtime can crash the interpreter as it shuts down, after
    every test has run and passed (DESIGN.md, known hazards). Once pytest has
    reported, leave with pytest's own status and skip the interpreter's teardown."""
    if "temporalio" in sys.modules and _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
