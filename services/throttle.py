"""Throttles over a sliding window (a minute), shared by every API process.

A throttle counts what it limits (a bearer token that was not valid, a sign-in link
asked for) per key (a client address, an email's hash). A key may have `limit`
within the window; after that it must wait until the oldest of those leaves the
window. The failed authentications of an address (services.api.deps) are checked
before its token is looked up, so that guesses cannot go on being tried; the
sign-in links (services.web.throttling) before one is sent.

The counts are kept in PostgreSQL (`throttle_events`, a row per count, deleted once
out of the window), so the limits hold however many API processes serve: behind a
load balancer too. A check is one indexed query. Two requests of one key checked
at the same moment in two processes may both pass at the limit's edge. Without a
pool (unit tests) the counts are kept in memory, for one process.
"""

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from psycopg_pool import ConnectionPool

WINDOW_SECONDS = 60.0
# In memory, past this many keys, those whose counts have all left the window are
# forgotten, so that a spread of addresses cannot grow the table without end.
MAX_ADDRESSES = 10_000

THROTTLE_DDL = (
    "CREATE TABLE IF NOT EXISTS throttle_events ("
    " kind text NOT NULL, key text NOT NULL, at double precision NOT NULL)",
    "CREATE INDEX IF NOT EXISTS throttle_events_key ON throttle_events (kind, key, at)",
    "CREATE INDEX IF NOT EXISTS throttle_events_at ON throttle_events (at)",
)


class Counts(Protocol):
    """Where a throttle's counts are kept: times (seconds, its clock's)."""

    def latest(self, kind: str, key: str, count: int, after: float) -> list[float]:
        """The times of the key's latest `count` counts later than `after`."""
        ...

    def add(self, kind: str, key: str, at: float, forget_until: float) -> None:
        """Count one for the key at `at`; counts at `forget_until` or before may go."""
        ...


class Throttle:
    """At most `limit` counts of one key within WINDOW_SECONDS. Safe to share between
    threads; with a pool, between processes. `kind` names what it counts."""

    def __init__(
        self,
        kind: str,
        limit: int,
        pool: ConnectionPool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kind = kind
        self.limit = limit
        self.clock = clock
        self.counts: Counts = InMemoryCounts(limit) if pool is None else PostgresCounts(pool)

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until `key` may go on, or None if it may now: it has had
        fewer than `limit` counts within the window."""
        now = self.clock()
        latest = self.counts.latest(self.kind, key, self.limit, now - WINDOW_SECONDS)
        if len(latest) < self.limit:
            return None
        wait = min(latest) + WINDOW_SECONDS - now
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, key: str) -> None:
        """Count one for `key`, now."""
        now = self.clock()
        self.counts.add(self.kind, key, now, now - WINDOW_SECONDS)


class FailedAuthentications(Throttle):
    """Bearer tokens that were not valid, per client address."""

    def __init__(
        self,
        limit: int,
        pool: ConnectionPool | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__("failed_authentication", limit, pool, clock)


class PostgresCounts:
    """The counts in `throttle_events` (created if missing)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        with pool.connection() as connection, connection.transaction():
            for statement in THROTTLE_DDL:
                connection.execute(statement)

    def latest(self, kind: str, key: str, count: int, after: float) -> list[float]:
        with self.pool.connection() as connection:
            rows = connection.execute(
                "SELECT at FROM throttle_events WHERE kind = %s AND key = %s AND at > %s"
                " ORDER BY at DESC LIMIT %s",
                (kind, key, after, count),
            ).fetchall()
        return [float(row[0]) for row in rows]

    def add(self, kind: str, key: str, at: float, forget_until: float) -> None:
        with self.pool.connection() as connection, connection.transaction():
            connection.execute("DELETE FROM throttle_events WHERE at <= %s", (forget_until,))
            connection.execute(
                "INSERT INTO throttle_events (kind, key, at) VALUES (%s, %s, %s)", (kind, key, at)
            )


class InMemoryCounts:
    """The counts of one process, the latest `limit` of each key."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def latest(self, kind: str, key: str, count: int, after: float) -> list[float]:
        with self._lock:
            times = list(self._counts.get((kind, key), ()))
        return [at for at in times if at > after][-count:]

    def add(self, kind: str, key: str, at: float, forget_until: float) -> None:
        with self._lock:
            if (kind, key) not in self._counts and len(self._counts) >= MAX_ADDRESSES:
                for old in [k for k, times in self._counts.items() if times[-1] <= forget_until]:
                    del self._counts[old]
            self._counts.setdefault((kind, key), deque(maxlen=self.limit)).append(at)
