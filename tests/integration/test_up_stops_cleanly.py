"""`mentoring up` leaves nothing running once it has stopped: after Ctrl-C, after
Ctrl-C on a restart that took over from an `up` killed with SIGKILL (whose embedded
PostgreSQL and Temporal dev server outlive it, being processes of their own), and
when it cannot start."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from workflows.devserver import free_port

READY_WITHIN = 90.0
STOPPED_WITHIN = 45.0


@dataclass(frozen=True)
class Place:
    """Where one `mentoring up` keeps its files and listens."""

    var_dir: Path
    api_port: int
    temporal_port: int
    temporal_ui_port: int

    @property
    def ports(self) -> set[int]:
        return {self.api_port, self.temporal_port, self.temporal_ui_port}


@contextmanager
def a_place(tmp_path: Path) -> Iterator[Place]:
    """A var folder and free ports; whatever is still running from them is killed on
    exit, so that a failing test leaves nothing behind either."""
    place = Place((tmp_path / "var").resolve(), free_port(), free_port(), free_port())
    try:
        yield place
    finally:
        kill(processes_of(place))


def start_up(place: Place, log: Path) -> subprocess.Popen[bytes]:
    environment = {name: value for name, value in os.environ.items() if "MENTORING_" not in name}
    environment |= {
        "MENTORING_VAR_DIR": str(place.var_dir),
        "MENTORING_PORT": str(place.api_port),
        "MENTORING_TEMPORAL_DEV_PORT": str(place.temporal_port),
        "MENTORING_TEMPORAL_UI_PORT": str(place.temporal_ui_port),
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_ready(up: subprocess.Popen[bytes], place: Place, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while not answers(f"http://127.0.0.1:{place.api_port}/readyz"):
        assert up.poll() is None, f"`mentoring up` exited ({up.returncode}):\n{log.read_text()}"
        assert time.monotonic() < deadline, f"not ready in {READY_WITHIN} s:\n{log.read_text()}"
        time.sleep(0.25)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def processes_of(place: Place) -> list[psutil.Process]:
    """The processes started with the var folder on their command line (PostgreSQL on
    var/pg, the dev server on var/temporal) and those listening on its ports."""
    found = {
        process.pid: process
        for process in psutil.process_iter(["cmdline"])
        if any(str(place.var_dir) in argument for argument in process.info["cmdline"] or [])
    }
    for connection in psutil.net_connections("inet"):
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port in place.ports
            and connection.pid is not None
        ):
            with suppress(psutil.NoSuchProcess):
                found.setdefault(connection.pid, psutil.Process(connection.pid))
    return list(found.values())


def described(processes: list[psutil.Process]) -> list[str]:
    descriptions = []
    for process in processes:
        try:
            descriptions.append(f"{process.pid}: {' '.join(process.cmdline())[:160]}")
        except psutil.NoSuchProcess:
            continue
    return descriptions


def left_running(place: Place, grace: float = 5.0) -> list[str]:
    """What of `place` is still running `grace` seconds from now, or as soon as
    nothing is."""
    deadline = time.monotonic() + grace
    while (left := described(processes_of(place))) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def kill(processes: list[psutil.Process]) -> None:
    for process in processes:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(processes, timeout=10)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue


def interrupt(up: subprocess.Popen[bytes], log: Path, *, whole_group: bool = False) -> None:
    """SIGINT to the `mentoring up` process alone (`kill -INT`), or to it and the
    children in its process group (Ctrl-C in a terminal); then wait for it to exit."""
    if whole_group:
        os.killpg(up.pid, signal.SIGINT)
    else:
        up.send_signal(signal.SIGINT)
    try:
        up.wait(STOPPED_WITHIN)
    except subprocess.TimeoutExpired:
        up.kill()
        up.wait()
        raise AssertionError(f"not stopped in {STOPPED_WITHIN} s:\n{log.read_text()}") from None


@pytest.mark.parametrize("whole_group", [False, True], ids=["kill -INT", "Ctrl-C"])
def test_ctrl_c_stops_everything_up_started(tmp_path: Path, whole_group: bool) -> None:
    log = tmp_path / "up.log"
    with a_place(tmp_path) as place:
        up = start_up(place, log)
        try:
            wait_until_ready(up, place, log)
            assert described(processes_of(place)), "nothing of `up` found running"
            interrupt(up, log, whole_group=whole_group)
        finally:
            up.kill()
            up.wait()

        left = left_running(place)
        assert left == [], "\n".join([*left, log.read_text()])


def test_ctrl_c_after_a_crash_and_a_restart_stops_everything(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    with a_place(tmp_path) as place:
        crashed = start_up(place, log)
        try:
            wait_until_ready(crashed, place, log)
        finally:
            crashed.kill()
            crashed.wait()
        survivors = " ".join(described(processes_of(place)))
        assert "postgres" in survivors and "start-dev" in survivors, survivors

        restarted = start_up(place, log)
        try:
            wait_until_ready(restarted, place, log)
            interrupt(restarted, log)
        finally:
            restarted.kill()
            restarted.wait()

        left = left_running(place)
        assert left == [], "\n".join([*left, log.read_text()])


def test_a_taken_temporal_port_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    with a_place(tmp_path) as place:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", place.temporal_port))
            taken.listen()
            up = start_up(place, log)
            try:
                up.wait(READY_WITHIN)
            finally:
                up.kill()
                up.wait()

        output = log.read_text()
        assert up.returncode == 1, output
        assert "Traceback" not in output
        (said,) = [line for line in output.splitlines() if line.startswith("mentoring: ")]
        assert said.startswith("mentoring: the Temporal dev server exited"), said
        assert f"{place.temporal_port}: bind: address already in use" in said, said
        left = left_running(place)
        assert left == [], "\n".join([*left, output])
