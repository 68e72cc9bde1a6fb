"""What the API and the CLI's token commands run on: the application, a connection
pool, the token and idempotency stores, the throttle of failed authentications,
and the staff accounts, sessions and sign-in links of the pages (built by
services.bootstrap)."""

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
from services.staff import StaffAccount, StaffRole, StaffStore
from services.throttle import FailedAuthentications
from services.web.links import BOOTSTRAP_LINK_LIFETIME, SignInLinks, sign_in_url
from services.web.oidc_pending import PendingSignIns
from services.web.people import PeopleByEmail
from services.web.session_store import SessionStore
from services.web.throttling import SignInRequests


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    mentoring: Mentoring
    pool: ConnectionPool
    tokens: TokenStore
    idempotency: IdempotencyStore
    failed_authentications: FailedAuthentications
    staff: StaffStore
    sessions: SessionStore
    sign_in_links: SignInLinks
    people_by_email: PeopleByEmail
    sign_in_requests: SignInRequests
    # Single sign-on attempts under way; None when OIDC is not configured.
    oidc_sign_ins: PendingSignIns | None = None

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

    def add_staff(
        self, name: str, email: str, role: StaffRole, scheme_ids: Sequence[UUID] = ()
    ) -> StaffAccount:
        """A new staff account, once its schemes are found. Raises InvalidValue (an
        unknown scheme, schemes that do not fit the role) or EmailTaken."""
        for scheme_id in scheme_ids:
            _must_exist(self.mentoring.get_scheme, scheme_id)
        return self.staff.add(name, email, role, tuple(scheme_ids))

    def change_staff(
        self,
        account_id: UUID,
        role: StaffRole | None = None,
        scheme_ids: Sequence[UUID] | None = None,
        active: bool | None = None,
    ) -> StaffAccount:
        """The account changed; deactivating it ends its sessions at once. Raises
        NotFound, or InvalidValue as add_staff does."""
        for scheme_id in scheme_ids or ():
            _must_exist(self.mentoring.get_scheme, scheme_id)
        account = self.staff.update(
            account_id,
            role=role,
            scheme_ids=None if scheme_ids is None else tuple(scheme_ids),
            active=active,
        )
        if account is None:
            raise NotFound("staff account", account_id)
        if not account.active:
            self.sessions.end_sessions_of(account.id)
        return account

    def bootstrap_sign_in_url(self) -> str:
        """A new one-time link that signs the bootstrap admin in to the pages
        (`mentoring up` prints it beside the admin token)."""
        link = self.sign_in_links.issue(None, "/", BOOTSTRAP_LINK_LIFETIME)
        return sign_in_url(self.settings.public_url, link.token)

    def close(self) -> None:
        self.pool.close()
        self.mentoring.close()


def _must_exist(get: Callable[[UUID], object], object_id: UUID) -> None:
    try:
        get(object_id)
    except NotFound as error:
        raise InvalidValue(str(error)) from None
