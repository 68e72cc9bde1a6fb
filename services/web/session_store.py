"""Server-side sessions of the pages, kept in PostgreSQL (services.web.sessions
uses them for each request).

The browser holds only the session's secret, in an `HttpOnly`, `SameSite=Lax`
cookie that is `Secure` unless the service is reached over plain http on
localhost; the table keeps its SHA-256 hash. A session ends when it is signed out,
when it has seen no request for `idle` (MENTORING_SESSION_IDLE), `lifetime` after
it began however busy it is (MENTORING_SESSION_LIFETIME), and at once when its
staff account is deactivated (`end_sessions_of`).

Each session also has a CSRF token, derived from its secret (`csrf_token`), which
every form it posts must carry (services.web.csrf).
"""

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast
from urllib.parse import urlsplit
from uuid import UUID

from psycopg_pool import ConnectionPool

from services.web.identity import IDENTITY_KINDS, Identity, IdentityKind

SESSION_TABLE = """
CREATE TABLE IF NOT EXISTS web_sessions (
    id_hash text PRIMARY KEY,
    kind text NOT NULL,
    subject_id uuid,
    started_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at timestamptz
);
CREATE INDEX IF NOT EXISTS web_sessions_subject ON web_sessions (subject_id)
    WHERE ended_at IS NULL;
"""

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
# Sessions ended or expired this long ago are deleted as new ones start.
KEPT_AFTER_ENDING = timedelta(days=30)


def _now() -> datetime:
    return datetime.now(UTC)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(secret: str) -> str:
    """The CSRF token of the session with this secret: stable for the session, and
    telling nothing of the secret."""
    return hmac.new(secret.encode(), b"csrf", hashlib.sha256).hexdigest()


def cookie_is_secure(public_url: str) -> bool:
    """Whether cookies are sent over https only: always, unless the service's public
    URL is plain http on localhost (where there is no TLS to ask for)."""
    parts = urlsplit(public_url)
    return not (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)


@dataclass(frozen=True)
class Session:
    """A live session: whom it is for, and its secret's CSRF token."""

    identity: Identity
    csrf_token: str


class SessionStore:
    """Sessions in the `web_sessions` table (created if missing). Every time it
    records or compares is `clock`'s."""

    def __init__(
        self,
        pool: ConnectionPool,
        idle: timedelta,
        lifetime: timedelta,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.pool = pool
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock
        with pool.connection() as connection, connection.transaction():
            connection.execute(SESSION_TABLE)

    def start(self, identity: Identity) -> str:
        """A new session for the identity; its secret, for the cookie, seen only now.
        Sessions that ended more than KEPT_AFTER_ENDING ago are deleted."""
        secret, now = secrets.token_urlsafe(32), self.clock()
        with self.pool.connection() as connection:
            connection.execute(
                # least() passes over NULL: a session not ended counts from its expiry.
                "DELETE FROM web_sessions WHERE least(ended_at, expires_at) < %s",
                (now - KEPT_AFTER_ENDING,),
            )
            connection.execute(
                "INSERT INTO web_sessions (id_hash, kind, subject_id, started_at, last_seen_at,"
                " expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    hash_secret(secret),
                    identity.kind,
                    identity.subject_id,
                    now,
                    now,
                    now + self.lifetime,
                ),
            )
        return secret

    def resume(self, secret: str) -> Session | None:
        """The live session with this secret, its last request now; None if there is
        none, or it was ended, or it has expired (it is then ended)."""
        now = self.clock()
        with self.pool.connection() as connection:
            row = connection.execute(
                "UPDATE web_sessions SET last_seen_at = %s WHERE id_hash = %s"
                " AND ended_at IS NULL AND expires_at > %s AND last_seen_at > %s"
                " RETURNING kind, subject_id",
                (now, hash_secret(secret), now, now - self.idle),
            ).fetchone()
            if row is None:
                connection.execute(
                    "UPDATE web_sessions SET ended_at = %s WHERE id_hash = %s AND ended_at IS NULL",
                    (now, hash_secret(secret)),
                )
                return None
        kind, subject_id = row
        assert kind in IDENTITY_KINDS
        return Session(Identity(cast(IdentityKind, kind), subject_id), csrf_token(secret))

    def end(self, secret: str) -> None:
        """End the session with this secret (nothing if there is none)."""
        with self.pool.connection() as connection:
            connection.execute(
                "UPDATE web_sessions SET ended_at = %s WHERE id_hash = %s AND ended_at IS NULL",
                (self.clock(), hash_secret(secret)),
            )

    def end_sessions_of(self, subject_id: UUID) -> int:
        """End every live session of a staff account or person; how many there were."""
        with self.pool.connection() as connection:
            cursor = connection.execute(
                "UPDATE web_sessions SET ended_at = %s WHERE subject_id = %s AND ended_at IS NULL",
                (self.clock(), subject_id),
            )
            return cursor.rowcount

    def live(self, subject_id: UUID) -> int:
        """How many sessions of a staff account or person have not been ended."""
        with self.pool.connection() as connection:
            row = connection.execute(
                "SELECT count(*) FROM web_sessions WHERE subject_id = %s AND ended_at IS NULL"
                " AND expires_at > %s",
                (subject_id, self.clock()),
            ).fetchone()
        return int(row[0]) if row else 0
