"""Bearer tokens: who is calling, in which role, for whom, until when.

Tokens are stored hashed, each with the time it expires (`expires_in` when issued,
P90D by default, at most P365D), the time it was revoked, if it was, and the time it
was last used. An expired or revoked token is no token at all. The bootstrap admin
token (MENTORING_ADMIN_TOKEN, or var/admin-token under `mentoring up`) is configured,
not issued: it is never stored, never expires and is not listed.
"""

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.actors import Actor
from domain.durations import parse_duration
from domain.errors import InvalidValue

BOOTSTRAP_TOKEN_ID = "bootstrap"

DEFAULT_LIFETIME = timedelta(days=90)
# A year: durations are written in days (domain.durations refuses years and months).
MAX_LIFETIME = timedelta(days=365)
# Last use is written at most this often per token, so that a valid request reads
# its token and writes nothing, but for the first one each minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A token found valid is taken as valid for this long without asking the database
# again, so a token revoked in any process stops working within a second. A use
# that asks the database comes at least this often, so last use keeps its minute.
TRUSTED_FOR = timedelta(seconds=1)
# Tokens remembered at most; past this, those no longer trusted are forgotten.
MAX_TRUSTED = 10_000

# The table as the first release made it, then what later releases added, each
# statement idempotent: a new database and one of an earlier release take the same
# path. Tokens stored before expiry existed expire DEFAULT_LIFETIME after the
# upgrade, and so do those an earlier release, still running beside this one, issues.
TOKENS_TABLE = (
    """
    CREATE TABLE IF NOT EXISTS mentoring_tokens (
        id uuid PRIMARY KEY,
        token_hash text NOT NULL UNIQUE,
        role text NOT NULL,
        subject_id uuid,
        scheme_ids jsonb NOT NULL DEFAULT '[]',
        label text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "ALTER TABLE mentoring_tokens ADD COLUMN IF NOT EXISTS expires_at timestamptz NOT NULL"
    f" DEFAULT now() + interval '{DEFAULT_LIFETIME.days} days'",
    "ALTER TABLE mentoring_tokens ADD COLUMN IF NOT EXISTS revoked_at timestamptz",
    "ALTER TABLE mentoring_tokens ADD COLUMN IF NOT EXISTS last_used_at timestamptz",
)

TokenStatus = Literal["active", "expired", "revoked"]


@dataclass(frozen=True)
class Principal:
    """The caller. `subject_id` is the person's id for mentors and mentees;
    `scheme_ids` are a coordinator's schemes."""

    role: str
    token_id: str
    subject_id: UUID | None = None
    scheme_ids: frozenset[UUID] = field(default_factory=frozenset)

    @property
    def actor(self) -> Actor:
        """How this caller appears in events: the person's id, else the token's."""
        return Actor(role=self.role, id=str(self.subject_id or self.token_id))


@dataclass(frozen=True)
class _Trusted:
    """A token found valid at `found_at`, which expires at `expires_at`."""

    principal: Principal
    found_at: datetime
    expires_at: datetime

    def holds_at(self, now: datetime) -> bool:
        # A clock set back does not stretch the second: it ends the trust.
        return self.found_at <= now < min(self.found_at + TRUSTED_FOR, self.expires_at)


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: `secret` is the bearer token, seen this once only."""

    id: UUID
    secret: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    """What is kept about an issued token: everything but its secret."""

    id: UUID
    role: str
    label: str
    subject_id: UUID | None
    scheme_ids: tuple[UUID, ...]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: TokenStatus

    def as_json(self) -> dict[str, Any]:
        """The record as the API lists it (services.api.answers.ListedToken): ids
        and times (in UTC) as strings."""
        return {
            "id": str(self.id),
            "role": self.role,
            "label": self.label,
            "subject_id": None if self.subject_id is None else str(self.subject_id),
            "scheme_ids": [str(s) for s in self.scheme_ids],
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "last_used_at": _iso(self.last_used_at) if self.last_used_at else None,
            "revoked_at": _iso(self.revoked_at) if self.revoked_at else None,
            "status": self.status,
        }


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    """A fresh bearer token: 256 random bits."""
    return "mtk_" + secrets.token_urlsafe(32)


def token_lifetime(text: str) -> timedelta:
    """How long a token asked to live `text` (an ISO 8601 duration) lives.

    Raises InvalidValue for anything but a positive duration of at most a year."""
    lifetime = parse_duration(text)
    if lifetime > MAX_LIFETIME:
        raise InvalidValue(f"a token lives at most P{MAX_LIFETIME.days}D (a year), not {text!r}")
    return lifetime


def _now() -> datetime:
    return datetime.now(UTC)


class TokenStore:
    """Issues, resolves, lists and revokes tokens; `admin_token` is always an admin
    token without being stored. Every time it records or compares is `clock`'s.

    A token found valid is trusted for TRUSTED_FOR (a second) without reading it
    again; revoking it through this store ends that at once (but for a request
    already reading the token), revoking it elsewhere within the second. Safe to
    share between threads."""

    def __init__(
        self,
        pool: ConnectionPool,
        admin_token: str | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.pool = pool
        self.admin_token = admin_token
        self.clock = clock
        self._trusted: dict[str, _Trusted] = {}  # by token hash
        with pool.connection() as connection, connection.transaction():
            for statement in TOKENS_TABLE:
                connection.execute(statement)

    def issue(
        self,
        role: str,
        label: str,
        subject_id: UUID | None = None,
        scheme_ids: frozenset[UUID] = frozenset(),
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> IssuedToken:
        """Store a new token that expires `lifetime` from now, and return it: the only
        time its secret is seen in clear."""
        token, now = new_secret(), self.clock()
        issued = IssuedToken(id=uuid.uuid4(), secret=token, expires_at=now + lifetime)
        with self.pool.connection() as connection:
            connection.execute(
                "INSERT INTO mentoring_tokens (id, token_hash, role, subject_id, scheme_ids,"
                " label, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    issued.id,
                    hash_token(token),
                    role,
                    subject_id,
                    Jsonb(sorted(str(s) for s in scheme_ids)),
                    label,
                    now,
                    issued.expires_at,
                ),
            )
        return issued

    def trusted(self, token: str) -> Principal | None:
        """The principal of the bootstrap admin token or of a token found valid less
        than TRUSTED_FOR ago; None otherwise (ask `resolve`). Reads no database."""
        if self.admin_token and hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return Principal(role="admin", token_id=BOOTSTRAP_TOKEN_ID)
        trusted = self._trusted.get(hash_token(token))
        return trusted.principal if trusted and trusted.holds_at(self.clock()) else None

    def resolve(self, token: str) -> Principal | None:
        """The principal a token stands for, or None if it is unknown, expired or
        revoked. Records the use, unless one was recorded less than a minute ago."""
        principal = self.trusted(token)
        if principal is not None:
            return principal
        now, token_hash = self.clock(), hash_token(token)
        with self.pool.connection() as connection:
            row = connection.execute(
                "SELECT id, role, subject_id, scheme_ids, last_used_at, expires_at"
                " FROM mentoring_tokens"
                " WHERE token_hash = %s AND revoked_at IS NULL AND expires_at > %s",
                (token_hash, now),
            ).fetchone()
            if row is None:
                return None
            token_id, role, subject_id, scheme_ids, last_used_at, expires_at = row
            if last_used_at is None or last_used_at <= now - LAST_USED_RESOLUTION:
                # Conditional, so that processes resolving it at once write it once.
                connection.execute(
                    "UPDATE mentoring_tokens SET last_used_at = %s WHERE id = %s"
                    " AND (last_used_at IS NULL OR last_used_at <= %s)",
                    (now, token_id, now - LAST_USED_RESOLUTION),
                )
        principal = Principal(
            role=role,
            token_id=str(token_id),
            subject_id=subject_id,
            scheme_ids=frozenset(UUID(s) for s in scheme_ids),
        )
        self._trust(token_hash, _Trusted(principal, now, expires_at))
        return principal

    def _trust(self, token_hash: str, trusted: _Trusted) -> None:
        if len(self._trusted) >= MAX_TRUSTED:
            for old in [
                h for h, t in list(self._trusted.items()) if not t.holds_at(trusted.found_at)
            ]:
                self._trusted.pop(old, None)
            if len(self._trusted) >= MAX_TRUSTED:
                self._trusted.clear()
        self._trusted[token_hash] = trusted

    def tokens(self) -> list[TokenRecord]:
        """Every issued token, revoked and expired ones too, oldest first."""
        now = self.clock()
        with self.pool.connection() as connection:
            rows = (
                connection.cursor(row_factory=dict_row)
                .execute(
                    "SELECT id, role, label, subject_id, scheme_ids, created_at, expires_at,"
                    " last_used_at, revoked_at FROM mentoring_tokens ORDER BY created_at, id"
                )
                .fetchall()
            )
        return [
            TokenRecord(
                **row
                | {
                    "scheme_ids": tuple(UUID(s) for s in row["scheme_ids"]),
                    "status": _status(now, row["expires_at"], row["revoked_at"]),
                }
            )
            for row in rows
        ]

    def revoke(self, token_id: UUID) -> bool:
        """Stop the token working from now on (in other processes, within
        TRUSTED_FOR); revoking it again changes nothing. False if no token has this
        id."""
        with self.pool.connection() as connection:
            row = connection.execute(
                "UPDATE mentoring_tokens SET revoked_at = coalesce(revoked_at, %s)"
                " WHERE id = %s RETURNING id",
                (self.clock(), token_id),
            ).fetchone()
        for token_hash, trusted in list(self._trusted.items()):
            if trusted.principal.token_id == str(token_id):
                self._trusted.pop(token_hash, None)
        return row is not None

    def count(self) -> int:
        with self.pool.connection() as connection:
            row = connection.execute("SELECT count(*) FROM mentoring_tokens").fetchone()
        return int(row[0]) if row else 0


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _status(now: datetime, expires_at: datetime, revoked_at: datetime | None) -> TokenStatus:
    if revoked_at is not None:
        return "revoked"
    return "active" if expires_at > now else "expired"
