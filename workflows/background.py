"""The worker and the relay on an event loop of their own, in a thread: for `mentoring
up`, whose main thread serves HTTP."""

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

# A process's work, run until the event given to it is set.
Serve = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class WorkerAndRelay:
    """Runs `worker` and `relay` in a daemon thread until `stop()`; `error` holds
    what ended them, if anything did."""

    def __init__(self, worker: Serve, relay: Serve) -> None:
        self._serves = (worker, relay)
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="worker-and-relay", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask both to stop, and wait for them (up to `timeout` seconds)."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._both())
        except BaseException as error:
            self.error = error
        finally:
            self._loop.close()

    async def _both(self) -> None:
        """Both run until stopped; if one fails, the other is stopped too."""
        tasks = [asyncio.create_task(serve(self._stop)) for serve in self._serves]
        try:
            await asyncio.gather(*tasks)
        finally:
            self._stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
