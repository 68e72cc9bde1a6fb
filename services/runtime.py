"""What the API and the CLI's token commands run on: the application, a connection
pool, the token and idempotency stores, and the throttle of failed authentications
(built by services.bootstrap)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.actors import ROLES
from domain.errors import InvalidValue
from services.application import Mentoring
from services.auth import DEFAULT_LIFETIME, IssuedToken, TokenStore
from services.config import Settings
from services.errors import NotFound
from services.idempotency import IdempotencyStore
from services.throttle import FailedAuthentications


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    mentoring: Mentoring
    pool: ConnectionPool
    tokens: TokenStore
    idempotency: IdempotencyStore
    failed_authentications: FailedAuthentications

    def issue_token(
        self,
        role: str,
        label: str,
        subject_id: UUID | None = None,
        scheme_ids: Sequence[UUID] = (),
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> IssuedToken:
        """Issue a token that expires `lifetime` from now, after checking it names real
        people and schemes.

        Mentor and mentee tokens act as one person (subject_id); coordinator tokens
        cover named schemes. Raises InvalidValue.
        """
        if role not in ROLES:
            raise InvalidValue(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if role in ("mentor", "mentee"):
            if subject_id is None:
                raise InvalidValue(f"a {role} token needs a subject id")
            get = self.mentoring.get_mentor if role == "mentor" else self.mentoring.get_mentee
            _must_exist(get, subject_id)
        if role == "coordinator":
            if not scheme_ids:
                raise InvalidValue("a coordinator token needs at least one scheme id")
            for scheme_id in scheme_ids:
                _must_exist(self.mentoring.get_scheme, scheme_id)
        return self.tokens.issue(role, label, subject_id, frozenset(scheme_ids), lifetime)

    def close(self) -> None:
        self.pool.close()
        self.mentoring.close()


def _must_exist(get: Callable[[UUID], object], object_id: UUID) -> None:
    try:
        get(object_id)
    except NotFound as error:
        raise InvalidValue(str(error)) from None
