"""A fork server of projection runners, for killing them at random points.

    python -m tests.support.projector DATABASE_URL BATCH_SIZE

Imports everything once, then on each line `start` on stdin forks a child that runs
every projection (`services.bootstrap.run_projections`) until it is killed, and
prints the child's pid. A fresh interpreter would take a second to import; a fork
starts at once. Children are reaped automatically.
"""

import os
import signal
import sys
import threading

from services.bootstrap import run_projections
from tests.support.settings import settings_for


def main() -> None:
    database_url, batch_size = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        if line.strip() != "start":
            break
        pid = os.fork()
        if pid == 0:
            try:
                run_projections(
                    settings_for(database_url),
                    threading.Event(),
                    batch_size=batch_size,
                    poll_interval=0.05,
                )
            finally:
                os._exit(1)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
