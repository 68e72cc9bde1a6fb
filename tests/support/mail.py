"""A sender over a test database, its clock, and the pair whose notices it sends."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.actors import Actor
from services.application import Mentoring
from services.mail.sender import DEFAULT_RETRIES, Retries, Sender
from services.mail.transport import MailTransport
from services.staff import StaffStore
from tests.support.mentoring import mentee_profile, mentor_profile, scheme_settings

PUBLIC_URL = "https://mentoring.example.nhs.uk"
MAIL_FROM = "Mentoring <mentoring@example.nhs.uk>"
ADMIN = Actor("admin", "admin-1")


class Clock:
    """The sender's clock, moved on by the test."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, by: timedelta) -> None:
        self.moment += by


@dataclass(frozen=True)
class Pair:
    scheme_id: UUID
    mentor_id: UUID
    mentee_id: UUID
    relationship_id: UUID


def matched_pair(mentoring: Mentoring, **mentee: Any) -> Pair:
    """A pair matched straight away (the scheme needs no acceptance): a match."""
    return invited_pair(mentoring, require_mentor_acceptance=False, **mentee)


def accept(mentoring: Mentoring, pair: Pair) -> None:
    mentoring.respond_to_invitation(
        pair.relationship_id, True, Actor("mentor", str(pair.mentor_id))
    )


def invited_pair(
    mentoring: Mentoring, require_mentor_acceptance: bool = True, **mentee: Any
) -> Pair:
    """A mentor invited to a new request (matched at once if the scheme needs no
    acceptance)."""
    settings = scheme_settings(require_mentor_acceptance=require_mentor_acceptance)
    scheme_id = mentoring.create_scheme(settings, ADMIN).aggregate.id
    mentor_id = mentoring.register_mentor(
        mentor_profile(scheme_id, name="Dr Ada Mentor", email="ada.mentor@example.nhs.uk"), ADMIN
    ).aggregate.id
    mentee_id = mentoring.register_mentee(
        mentee_profile(
            scheme_id, "", name="Dr Ben Mentee", email="ben.mentee@example.nhs.uk", **mentee
        ),
        ADMIN,
    ).aggregate.id
    relationship_id = mentoring.request_mentor(scheme_id, mentee_id, [], ADMIN).aggregate.id
    mentoring.invite_mentor(relationship_id, mentor_id, ADMIN)
    return Pair(scheme_id, mentor_id, mentee_id, relationship_id)


@contextmanager
def sender_on(
    mentoring: Mentoring,
    database_url: str,
    transport: MailTransport,
    clock: Clock | None = None,
    retries: Retries = DEFAULT_RETRIES,
) -> Iterator[Sender]:
    with ConnectionPool(database_url, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool:
        sender = Sender(
            mentoring,
            pool,
            StaffStore(pool),
            transport,
            mail_from=MAIL_FROM,
            public_url=PUBLIC_URL,
            retries=retries,
            now=(clock or Clock()).now,
        )
        sender.create_tables()
        yield sender
