"""What `mentoring up` runs beside the API, once started (services.bootstrap): the
Temporal dev server (unless an external Temporal is configured), the worker and
the relay, the projections and the mail sender (stopped by the same event as the
projections). Each runs in a thread of this process and stops
cleanly."""

import threading
from dataclasses import dataclass

from workflows.background import WorkerAndRelay
from workflows.devserver import DevServer


@dataclass
class Background:
    temporal_address: str
    temporal: WorkerAndRelay
    projections: threading.Thread
    stop_projections: threading.Event
    dev_server: DevServer | None = None
    sender: threading.Thread | None = None

    def stop(self) -> None:
        """Stop everything, the dev server last."""
        self.stop_projections.set()
        self.temporal.stop()
        self.projections.join(timeout=30)
        if self.sender is not None:
            self.sender.join(timeout=30)
        if self.dev_server is not None:
            self.dev_server.stop()
