"""Who signs in to the pages, and the principal they act as.

A verified email belongs to the active staff account that has it, else to the
mentor or mentee whose profile has it (people.PeopleByEmail). A staff account wins
over a profile with the same email. The bootstrap admin of `mentoring up` has no
account and no email: it signs in only by the link `up` prints.

Each request of a session turns its identity into a `services.auth.Principal`
afresh (`principal_of`), exactly like a bearer token's, so the access policy
(services.access) applies to pages as it does to the API, and an account
deactivated or a person no longer found ends the session on its next request.
"""

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from services.application import Mentoring
from services.auth import BOOTSTRAP_TOKEN_ID, Principal
from services.errors import NotFound
from services.staff import StaffStore
from services.web.people import PeopleByEmail

IdentityKind = Literal["staff", "mentor", "mentee", "bootstrap"]
IDENTITY_KINDS: tuple[IdentityKind, ...] = ("staff", "mentor", "mentee", "bootstrap")


@dataclass(frozen=True)
class Identity:
    """Whom a session is for: a staff account, a mentor or mentee (by id), or the
    bootstrap admin (`subject_id` None)."""

    kind: IdentityKind
    subject_id: UUID | None = None


BOOTSTRAP_ADMIN = Identity("bootstrap")


def identity_for_email(email: str, staff: StaffStore, people: PeopleByEmail) -> Identity | None:
    """Whom a verified email signs in as, or None if no active account and no
    profile has it."""
    account = staff.active_by_email(email)
    if account is not None:
        return Identity("staff", account.id)
    person = people.find(email)
    if person is None:
        return None
    kind, person_id = person
    return Identity(kind, person_id)


def principal_of(identity: Identity, staff: StaffStore, mentoring: Mentoring) -> Principal | None:
    """The principal the identity acts as now, or None if its account is no longer
    active or its person is no longer found. A staff account acts in its role, over
    its schemes, and appears in events by its id; a mentor or mentee as that person."""
    if identity.kind == "bootstrap":
        return Principal(role="admin", token_id=BOOTSTRAP_TOKEN_ID)
    if identity.subject_id is None:
        return None
    if identity.kind == "staff":
        account = staff.get(identity.subject_id)
        if account is None or not account.active:
            return None
        return Principal(
            role=account.role, token_id=str(account.id), scheme_ids=frozenset(account.scheme_ids)
        )
    get = mentoring.get_mentor if identity.kind == "mentor" else mentoring.get_mentee
    try:
        get(identity.subject_id)
    except NotFound:
        return None
    return Principal(
        role=identity.kind, token_id=str(identity.subject_id), subject_id=identity.subject_id
    )
