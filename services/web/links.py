"""Sign-in links: single use, valid for a while (15 minutes when emailed), stored
only as the SHA-256 hash of their token.

A link is for a verified email (the account it reaches is looked up when it is
used, so a link to an account deactivated since leads nowhere) or for the
bootstrap admin. Using a link spends it, in one statement: of two uses at once
only one signs in.
"""

import logging
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode
from uuid import UUID

from psycopg_pool import ConnectionPool

from services.web.session_store import hash_secret

LINK_LIFETIME = timedelta(minutes=15)
# The link `mentoring up` prints for the bootstrap admin: long enough to be opened
# later on the day of a first start; each start prints a new one.
BOOTSTRAP_LINK_LIFETIME = timedelta(hours=12)
LINK_PATH = "/sign-in/link"
# Links expired this long ago are deleted as new ones are made.
KEPT_AFTER_EXPIRY = timedelta(days=1)

LINKS_TABLE = """
CREATE TABLE IF NOT EXISTS web_sign_in_links (
    id uuid PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    email text,
    bootstrap boolean NOT NULL DEFAULT false,
    next_path text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
"""

LinkStatus = Literal["valid", "used", "expired", "unknown"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class IssuedLink:
    """A link just made: `token` goes in the URL and is seen this once only; `id`
    names it (in the Message-ID of its email)."""

    id: UUID
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class SpentLink:
    """A link used just now: whom it signs in (an email, or the bootstrap admin when
    `email` is None) and where it leads."""

    email: str | None
    next_path: str


def sign_in_url(public_url: str, token: str) -> str:
    """The address of a link, under the service's public URL."""
    return f"{public_url}{LINK_PATH}?{urlencode({'token': token})}"


_TOKEN_IN_URL = re.compile(r"(token=)[^&\s\"]+")


class WithoutLinkTokens(logging.Filter):
    """Keeps sign-in tokens out of the log: the access log names each request's
    URL, and a link's token is in its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_URL.sub(r"\1[hidden]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def keep_link_tokens_out_of(logger: logging.Logger) -> None:
    """Add WithoutLinkTokens to the logger, once."""
    if not any(isinstance(f, WithoutLinkTokens) for f in logger.filters):
        logger.addFilter(WithoutLinkTokens())


class SignInLinks:
    """Links in the `web_sign_in_links` table (created if missing); times are
    `clock`'s."""

    def __init__(self, pool: ConnectionPool, clock: Callable[[], datetime] = _now) -> None:
        self.pool = pool
        self.clock = clock
        with pool.connection() as connection, connection.transaction():
            connection.execute(LINKS_TABLE)

    def issue(
        self, email: str | None, next_path: str, lifetime: timedelta = LINK_LIFETIME
    ) -> IssuedLink:
        """A new link for an email, or for the bootstrap admin (None). Links expired
        more than KEPT_AFTER_EXPIRY ago are deleted."""
        now = self.clock()
        link = IssuedLink(uuid.uuid4(), "msl_" + secrets.token_urlsafe(32), now + lifetime)
        with self.pool.connection() as connection:
            connection.execute(
                "DELETE FROM web_sign_in_links WHERE expires_at < %s", (now - KEPT_AFTER_EXPIRY,)
            )
            connection.execute(
                "INSERT INTO web_sign_in_links (id, token_hash, email, bootstrap, next_path,"
                " created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    link.id,
                    hash_secret(link.token),
                    email,
                    email is None,
                    next_path,
                    now,
                    link.expires_at,
                ),
            )
        return link

    def status(self, token: str) -> LinkStatus:
        """Whether the link may still be used, without using it."""
        with self.pool.connection() as connection:
            row = connection.execute(
                "SELECT used_at, expires_at FROM web_sign_in_links WHERE token_hash = %s",
                (hash_secret(token),),
            ).fetchone()
        if row is None:
            return "unknown"
        used_at, expires_at = row
        if used_at is not None:
            return "used"
        return "valid" if expires_at > self.clock() else "expired"

    def spend(self, token: str) -> SpentLink | None:
        """Use the link; None if it is unknown, used already or expired."""
        now = self.clock()
        with self.pool.connection() as connection:
            row = connection.execute(
                "UPDATE web_sign_in_links SET used_at = %s WHERE token_hash = %s"
                " AND used_at IS NULL AND expires_at > %s RETURNING email, bootstrap, next_path",
                (now, hash_secret(token), now),
            ).fetchone()
        if row is None:
            return None
        email, bootstrap, next_path = row
        return SpentLink(None if bootstrap else email, next_path)
