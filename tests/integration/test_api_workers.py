"""`mentoring api --workers N` serves from N processes sharing one port, and every one
of them stops with it: on SIGTERM, and when it is killed outright."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil

from tests.integration.test_up_stops_cleanly import answers
from workflows.devserver import free_port

READY_WITHIN = 90.0
STOPPED_WITHIN = 45.0
ADMIN_TOKEN = "mtk_workers-test-admin"


@contextmanager
def api_with_workers(database_url: str, workers: int, log: Path) -> Iterator[tuple[int, int]]:
    """`mentoring api --workers N` on the database, ready; yields (its pid, port)."""
    port = free_port()
    environment = {name: value for name, value in os.environ.items() if "MENTORING_" not in name}
    environment |= {
        "MENTORING_DATABASE_URL": database_url,
        "MENTORING_ADMIN_TOKEN": ADMIN_TOKEN,
        "MENTORING_PORT": str(port),
    }
    with log.open("ab") as output:
        api = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "api", "--workers", str(workers)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_WITHIN
        while not answers(f"http://127.0.0.1:{port}/healthz"):
            assert api.poll() is None, f"`mentoring api` exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"not ready in {READY_WITHIN} s:\n{log.read_text()}"
            time.sleep(0.25)
        yield api.pid, port
    finally:
        with suppress(ProcessLookupError):
            os.killpg(api.pid, signal.SIGKILL)
        api.wait()


def listens_on(process: psutil.Process, port: int) -> bool:
    """Whether the process holds a listening socket on the port (the workers share
    one: psutil.net_connections would name only one of them)."""
    with suppress(psutil.NoSuchProcess):
        return any(
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            for connection in process.net_connections("inet")
        )
    return False


def listening_on(port: int) -> set[int]:
    """The processes with a listening socket on the port, one for each socket."""
    return {
        connection.pid
        for connection in psutil.net_connections("inet")
        if connection.status == psutil.CONN_LISTEN
        and connection.laddr
        and connection.laddr.port == port
        and connection.pid is not None
    }


def serving_workers(pid: int, port: int, count: int) -> list[psutil.Process]:
    """The children of `pid` listening on the port, once there are `count` of them
    (or those there are when READY_WITHIN has passed)."""
    deadline = time.monotonic() + READY_WITHIN
    while True:
        serving = [child for child in psutil.Process(pid).children() if listens_on(child, port)]
        if len(serving) >= count or time.monotonic() > deadline:
            return serving
        time.sleep(0.25)


def gone(processes: list[psutil.Process]) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=STOPPED_WITHIN)
    return not alive


def test_two_workers_serve_and_sigterm_stops_them_all(database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    with api_with_workers(database_url, 2, log) as (pid, port):
        workers = serving_workers(pid, port, 2)
        assert len(workers) == 2, log.read_text()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/tokens",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        for _ in range(4):
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
        assert "(docs at /docs; 2 processes)" in log.read_text()
        supervisor = psutil.Process(pid)
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(STOPPED_WITHIN) == 0
        assert gone(workers), log.read_text()
        assert not answers(f"http://127.0.0.1:{port}/healthz")


def test_the_workers_stop_when_their_supervisor_is_killed(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "api.log"
    with api_with_workers(database_url, 2, log) as (pid, port):
        workers = serving_workers(pid, port, 2)
        assert len(workers) == 2, log.read_text()
        os.kill(pid, signal.SIGKILL)
        assert gone(workers), log.read_text()
        assert listening_on(port) == set()
