"""Single sign-on attempts under way: what the callback from the OpenID Connect
provider needs to finish one (services.web.oidc), kept in PostgreSQL for
PENDING_LIFETIME.

An attempt is found by its state, which the table keeps only as a SHA-256 hash;
its nonce and PKCE code verifier are kept as they are, since the callback must
send and compare them. Finishing an attempt deletes it, in one statement: a state
is spent once, even by two callbacks at once.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg_pool import ConnectionPool

from services.web.session_store import hash_secret

# How long a visitor has at the provider to sign in.
PENDING_LIFETIME = timedelta(minutes=10)

PENDING_TABLE = """
CREATE TABLE IF NOT EXISTS oidc_pending (
    state_hash text PRIMARY KEY,
    nonce text NOT NULL,
    code_verifier text NOT NULL,
    next_path text NOT NULL,
    expires_at timestamptz NOT NULL
);
"""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PendingSignIn:
    """An attempt: `state` goes to the provider and back (seen in full only when the
    attempt begins), `nonce` must come back in the ID token, `code_verifier` is sent
    with the code (PKCE), `next_path` is where the visitor goes once signed in."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str


class PendingSignIns:
    """Attempts in the `oidc_pending` table (created if missing); times are `clock`'s."""

    def __init__(self, pool: ConnectionPool, clock: Callable[[], datetime] = _now) -> None:
        self.pool = pool
        self.clock = clock
        with pool.connection() as connection, connection.transaction():
            connection.execute(PENDING_TABLE)

    def begin(self, next_path: str) -> PendingSignIn:
        """A new attempt, with a random state, nonce and code verifier. Attempts that
        have expired are deleted."""
        now = self.clock()
        attempt = PendingSignIn(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(48),
            next_path=next_path,
        )
        with self.pool.connection() as connection:
            connection.execute("DELETE FROM oidc_pending WHERE expires_at <= %s", (now,))
            connection.execute(
                "INSERT INTO oidc_pending (state_hash, nonce, code_verifier, next_path,"
                " expires_at) VALUES (%s, %s, %s, %s, %s)",
                (
                    hash_secret(attempt.state),
                    attempt.nonce,
                    attempt.code_verifier,
                    next_path,
                    now + PENDING_LIFETIME,
                ),
            )
        return attempt

    def finish(self, state: str) -> PendingSignIn | None:
        """The attempt with this state, deleted now; None if there is none (unknown,
        finished already) or it has expired."""
        with self.pool.connection() as connection:
            row = connection.execute(
                "DELETE FROM oidc_pending WHERE state_hash = %s"
                " RETURNING nonce, code_verifier, next_path, expires_at",
                (hash_secret(state),),
            ).fetchone()
        if row is None:
            return None
        nonce, code_verifier, next_path, expires_at = row
        if expires_at <= self.clock():
            return None
        return PendingSignIn(state, nonce, code_verifier, next_path)

    def count(self) -> int:
        """How many attempts are kept (expired ones among them, until the next begins)."""
        with self.pool.connection() as connection:
            row = connection.execute("SELECT count(*) FROM oidc_pending").fetchone()
        return int(row[0]) if row else 0
