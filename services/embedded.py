"""The embedded defaults of `mentoring up`: PostgreSQL from the `pgserver` package,
a cipher key and a first admin token, all kept under the var folder."""

import os
from pathlib import Path
from typing import Any

import psutil

from services.auth import new_secret
from services.persistence import create_cipher_key

# The embedded servers this process started or joined.
_servers: list[Any] = []


def start_embedded_postgres(var_dir: Path) -> str:
    """Start (or join) the PostgreSQL server whose data is in var/pg; its URL."""
    from pgserver.postgres_server import get_server

    var_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(var_dir.resolve() / "pg", cleanup_mode="stop")
    _servers.append(server)
    return str(server.get_uri())


def stop_embedded_postgres() -> None:
    """Let go of the embedded servers this process started or joined, stopping each
    one this process was the last running user of. pgserver would let go at exit,
    but the CLI skips the interpreter's teardown (services.cli)."""
    while _servers:
        server = _servers.pop()
        forget_ended_users(server)
        server.cleanup()


def forget_ended_users(server: Any) -> None:
    """Drop from the pgserver `server`'s list of users (`.handle_pids.json` in its
    data folder) every process that has ended. pgserver stops a server only when its
    last listed user lets go, so a user killed before it could let go (a crashed
    `mentoring up`) would otherwise keep the server running for good."""
    # pgserver's own inter-process lock guards the list in every process that uses it.
    with server._lock:
        users = server.global_process_id_list
        listed = users.get()
        running = [pid for pid in listed if _is_running(pid)]
        if running != listed:
            users.put(running)


def _is_running(pid: int) -> bool:
    """Whether process `pid` exists and has not ended (a zombie has ended); a process
    of another user that cannot be inspected counts as running."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text + "\n")


def cipher_key_from(var_dir: Path) -> str:
    """The key in var/cipher-key, created on first use and reused after."""
    path = var_dir / "cipher-key"
    if not path.exists():
        _write_secret(path, create_cipher_key())
    return path.read_text().strip()


def admin_token_from(var_dir: Path) -> str:
    """The bootstrap admin token in var/admin-token, created on first use and reused
    after. Like MENTORING_ADMIN_TOKEN it is configured, not issued: never stored in
    the database, so it never expires (services.auth)."""
    path = var_dir / "admin-token"
    if not path.exists() or not path.read_text().strip():
        _write_secret(path, new_secret())
    return path.read_text().strip()
