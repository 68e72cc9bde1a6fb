"""How often sign-in links may be asked for, in every API process together: by one
client address, and for one email (kept as its hash), each in a sliding minute
(services.throttle). A request over either limit sends nothing and says when to
try again, whether or not the email has an account."""

import hashlib
import time
from collections.abc import Callable

from psycopg_pool import ConnectionPool

from services.throttle import Throttle

LINKS_PER_ADDRESS_PER_MINUTE = 10
LINKS_PER_EMAIL_PER_MINUTE = 3


class SignInRequests:
    """Safe to share between threads and, with a pool, between processes (in memory,
    for one process, without)."""

    def __init__(
        self,
        pool: ConnectionPool | None = None,
        per_address: int = LINKS_PER_ADDRESS_PER_MINUTE,
        per_email: int = LINKS_PER_EMAIL_PER_MINUTE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._addresses = Throttle("sign_in_link_address", per_address, pool, clock)
        self._emails = Throttle("sign_in_link_email", per_email, pool, clock)

    def retry_after(self, address: str, email: str) -> int | None:
        """Seconds until this client may ask for a link for this email, or None if it
        may now."""
        waits = [
            wait
            for wait in (
                self._addresses.retry_after(address),
                self._emails.retry_after(_key(email)),
            )
            if wait is not None
        ]
        return max(waits) if waits else None

    def record(self, address: str, email: str) -> None:
        """A link was asked for."""
        self._addresses.record(address)
        self._emails.record(_key(email))


def _key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()
