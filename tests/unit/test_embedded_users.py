"""The processes listed as users of the embedded PostgreSQL: those that have ended
without letting go (killed, or killed and not yet reaped) are forgotten, so that the
last running one stops the server."""

import os
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
from pgserver.utils import DiskList

from services.embedded import forget_ended_users


def an_ended_process(*, reaped: bool) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(["true"])
    if reaped:
        process.wait()
    else:
        while psutil.Process(process.pid).status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.01)
    return process


def test_users_that_ended_are_forgotten_and_running_ones_kept(tmp_path: Path) -> None:
    reaped = an_ended_process(reaped=True)
    zombie = an_ended_process(reaped=False)
    running = subprocess.Popen(["sleep", "30"])
    try:
        users = DiskList(tmp_path / ".handle_pids.json")
        users.put([reaped.pid, os.getpid(), zombie.pid, running.pid])
        # The two attributes of a pgserver PostgresServer that forget_ended_users uses.
        server = SimpleNamespace(_lock=threading.Lock(), global_process_id_list=users)

        forget_ended_users(server)

        assert users.get() == [os.getpid(), running.pid]
    finally:
        running.kill()
        running.wait()
        zombie.wait()
