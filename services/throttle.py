"""Throttling failed authentications per client address, within one API process.

Each address may present `limit` bearer tokens that are not valid within a sliding
window (a minute); after that, every request of its that presents a token is
refused until the oldest failure leaves the window, without the token being
looked up, so that guesses cannot go on being checked. Valid tokens pay one
dictionary lookup. Each API process counts on its own: N processes behind a load
balancer let an address try up to N times the limit.
"""

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
# Past this many addresses, those whose failures have all left the window are
# forgotten, so that a spread of addresses cannot grow the table without end.
MAX_ADDRESSES = 10_000


class FailedAuthentications:
    """The recent failures of each address. Safe to share between threads."""

    def __init__(
        self,
        limit: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may present a token again, or None if it may
        now: it has had fewer than `limit` failures within the window."""
        with self._lock:
            failures = self._failures.get(address)
            if failures is None or len(failures) < self.limit:
                return None
            wait = failures[0] + WINDOW_SECONDS - self.clock()
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, address: str) -> None:
        """`address` presented a token that is not valid."""
        now = self.clock()
        with self._lock:
            if address not in self._failures and len(self._failures) >= MAX_ADDRESSES:
                self._forget_before(now - WINDOW_SECONDS)
            # Only the last `limit` failures can decide whether it is throttled.
            self._failures.setdefault(address, deque(maxlen=self.limit)).append(now)

    def _forget_before(self, moment: float) -> None:
        for address in [a for a, failures in self._failures.items() if failures[-1] < moment]:
            del self._failures[address]
