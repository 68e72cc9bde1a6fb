"""The sender (`mentoring send`, and a thread of `mentoring up`): delivers every
notice in the outbox to each of its recipients.

Each round it (1) records the notices of new relationship events
(services.mail.notices), (2) plans the notices not yet taken: one delivery row per
recipient (the pair is the mentor and the mentee; the coordinators are the active
coordinator accounts of the scheme), and (3) sends the due deliveries, one
transaction each: the row is claimed with FOR UPDATE SKIP LOCKED, the message is
handed to the transport, and the row is marked sent in the same transaction.

At least once: a delivery is only marked sent after the mail server (or the mail
directory) took the message, so a sender or mail server killed mid-batch loses
nothing; the rows still pending are sent by the next round. Never twice in normal
operation: a sent row is never claimed again, and two senders skip each other's
rows. The one window for a repeat is between the server accepting a message and
the commit that records it (an UPDATE and a COMMIT on an open connection); a
repeat then carries the same Message-ID, which the mail directory overwrites and
mail clients collapse. While the mail server is down each delivery is retried with
exponential backoff, up to `max_attempts`, then marked failed.

Logs name notices by id, kind and recipient role only: never a name or address.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.errors import NotFound
from domain.people import Mentee, Mentor
from domain.relationship import Relationship
from domain.vocabulary import State
from services.application import Mentoring
from services.mail.deliveries import (
    CLAIM_DUE,
    INSERT_DELIVERY,
    RECORD_ATTEMPT,
    create_deliveries,
    due_at,
)
from services.mail.messages import KINDS, Letter, Party, Recipient, Survey, compose
from services.mail.notices import EventNotices
from services.mail.transport import MailTransport, MailUndelivered
from services.staff import StaffStore
from workflows.outbox import create_outbox

log = logging.getLogger("mentoring.mail")

UNPLANNED = """
SELECT id, relationship_id, audience, kind, as_of_version, recorded_at
FROM notification_outbox WHERE sent_at IS NULL ORDER BY id LIMIT %s
FOR UPDATE SKIP LOCKED
"""


@dataclass(frozen=True)
class Retries:
    """How the sender retries while the mail server is down: the first wait, the
    longest, and how many tries before a delivery is marked failed."""

    first_wait: timedelta = timedelta(seconds=30)
    longest_wait: timedelta = timedelta(hours=1)
    max_attempts: int = 12


DEFAULT_RETRIES = Retries()


@dataclass(frozen=True)
class Attempt:
    """What became of one try: the delivery's new status and the kind of error."""

    status: str
    error: str | None = None


class Skip(Exception):
    """The delivery will not be sent (reminders off, an outdated invitation, an
    inactive account, a person who has left the scheme); its reason is the error
    kind recorded."""


class Sender:
    """Delivers the outbox's notices through `transport` (see the module docstring).
    `now` is the clock deliveries are due by."""

    def __init__(
        self,
        mentoring: Mentoring,
        pool: ConnectionPool,
        staff: StaffStore,
        transport: MailTransport,
        *,
        mail_from: str,
        public_url: str,
        retries: Retries = DEFAULT_RETRIES,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.mentoring = mentoring
        self.pool = pool
        self.staff = staff
        self.transport = transport
        self.mail_from = mail_from
        self.public_url = public_url
        self.retries = retries
        self.now = now
        self.event_notices = EventNotices(mentoring, pool)
        self.mail_server_down = False  # the last try found the mail server down

    def create_tables(self) -> None:
        """The outbox, the event tracking and the delivery log (idempotent)."""
        with self.pool.connection() as connection:
            create_outbox(connection)
            create_deliveries(connection)
        self.event_notices.create_table()

    # One round ------------------------------------------------------------------

    def round(self, batch: int = 100) -> int:
        """Record, plan and send what is due; how many deliveries were tried."""
        self.event_notices.record_new()
        while self.plan(batch) == batch:
            pass
        return self.send_due(batch)

    def run(self, stop: threading.Event, poll_interval: float = 1.0) -> None:
        """Rounds until `stop` is set; waits `poll_interval` when nothing was due, and
        longer while the database is unreachable."""
        while not stop.is_set():
            try:
                tried = self.round()
            except (psycopg.Error, PersistenceError) as error:
                # Down, or the event store not created yet (the API creates it).
                log.warning("sender: database unavailable (%s)", type(error).__name__)
                stop.wait(poll_interval * 5)
                continue
            except Exception as error:
                # Keep sending the rest; the type only, since a message could name someone.
                log.error("sender: round failed (%s)", type(error).__name__)
                stop.wait(poll_interval * 5)
                continue
            if not tried or self.mail_server_down:
                stop.wait(poll_interval)

    # Planning ----------------------------------------------------------------------

    def plan(self, limit: int = 100) -> int:
        """Record a delivery for each recipient of up to `limit` notices not yet taken;
        how many notices were taken."""
        with self.pool.connection() as connection, connection.transaction():
            cursor = connection.cursor(row_factory=dict_row)
            notices = cursor.execute(UNPLANNED, (limit,)).fetchall()
            for notice in notices:
                for role, recipient_id, scheme_id in self._recipients_of(notice):
                    connection.execute(
                        INSERT_DELIVERY,
                        (
                            notice["id"],
                            scheme_id,
                            notice["relationship_id"],
                            notice["kind"],
                            role,
                            recipient_id,
                            self.now(),
                            notice["recorded_at"],
                        ),
                    )
                connection.execute(
                    "UPDATE notification_outbox SET sent_at = %s WHERE id = %s",
                    (self.now(), notice["id"]),
                )
        return len(notices)

    def _recipients_of(self, notice: dict[str, Any]) -> list[tuple[str, UUID, UUID]]:
        """(role, id, scheme id) of each recipient of a notice; none when its
        relationship is unknown."""
        if is_survey_kind(notice["kind"]):
            return self._round_recipients(notice)
        try:
            relationship = self._relationship(notice["relationship_id"], notice["as_of_version"])
        except NotFound:
            log.warning("notice %s: no such relationship; no one to tell", notice["id"])
            return []
        scheme_id = relationship.scheme_id
        audience = notice["audience"]
        people: list[tuple[str, UUID]] = []
        if audience in ("pair", "mentor") and relationship.mentor_id is not None:
            people.append(("mentor", relationship.mentor_id))
        if audience in ("pair", "mentee"):
            people.append(("mentee", relationship.mentee_id))
        if audience == "coordinator":
            people += [
                ("coordinator", account.id) for account in self.staff.coordinators_of(scheme_id)
            ]
        return [(role, person, scheme_id) for role, person in people]

    def _round_recipients(self, notice: dict[str, Any]) -> list[tuple[str, UUID, UUID]]:
        """Everyone a survey round asks (its notice's `relationship_id` is the round's
        id); for the reminder, those who have not answered yet."""
        try:
            survey_round = self.mentoring.survey_rounds.get(notice["relationship_id"])
        except NotFound:
            log.warning("notice %s: no such survey round; no one to tell", notice["id"])
            return []
        asked = [("mentee", m) for m in survey_round.mentee_ids]
        asked += [("mentor", m) for m in survey_round.mentor_ids]
        if notice["kind"] == "survey_round_reminder":
            asked = [(role, m) for role, m in asked if m not in survey_round.answered]
        return [(role, person, survey_round.scheme_id) for role, person in asked]

    def _round_letter(self, delivery: dict[str, Any]) -> Letter:
        """The letter asking one person to answer a survey round. Raises Skip when they
        have answered since (a reminder) or turned reminders off, or NotFound."""
        kind, person = delivery["kind"], delivery["recipient_id"]
        survey_round = self.mentoring.survey_rounds.get(delivery["relationship_id"])
        scheme = self.mentoring.get_scheme(survey_round.scheme_id)
        found: Mentor | Mentee = (
            self.mentoring.get_mentor(person)
            if delivery["recipient_role"] == "mentor"
            else self.mentoring.get_mentee(person)
        )
        recipient = Recipient(
            delivery["recipient_role"], str(found.id), found.name, found.email, found.reminders
        )
        if KINDS[kind].reminder and not recipient.reminders:
            raise Skip("reminders_off")
        if KINDS[kind].reminder and person in survey_round.answered:
            raise Skip("survey_answered")
        asked = {"mentee": "mentees", "mentor": "mentors", "both": "mentees and mentors"}
        return Letter(
            notice_id=delivery["notice_id"],
            kind=kind,
            relationship_id=str(survey_round.id),
            scheme_name=scheme.name,
            recipient=recipient,
            other=None,
            survey=Survey(
                survey_round.name,
                asked[survey_round.audience.value],
                survey_round.closes_on.strftime("%-d %B %Y"),
            ),
        )

    def _relationship(self, relationship_id: UUID, version: int | None) -> Relationship:
        if version is None:
            return self.mentoring.get_relationship(relationship_id)
        try:
            found: object = self.mentoring.repository.get(relationship_id, version=version)
        except Exception as error:  # the library's AggregateNotFoundError
            raise NotFound("relationship", relationship_id) from error
        if not isinstance(found, Relationship):
            raise NotFound("relationship", relationship_id)
        return found

    # Sending -----------------------------------------------------------------------

    def send_due(self, limit: int = 100) -> int:
        """Send up to `limit` due deliveries, one transaction each; stops early when the
        mail server does not answer. How many were tried."""
        tried = 0
        while tried < limit:
            with self.pool.connection() as connection, connection.transaction():
                cursor = connection.cursor(row_factory=dict_row)
                delivery = cursor.execute(CLAIM_DUE, (self.now(),)).fetchone()
                if delivery is None:
                    return tried
                attempt = self._attempt(delivery)
                self._record(connection, delivery, attempt)
            tried += 1
            self.mail_server_down = attempt.error == "mail_server_unavailable"
            if self.mail_server_down:
                return tried
        return tried

    def _attempt(self, delivery: dict[str, Any]) -> Attempt:
        try:
            letter = self._letter(delivery)
            message = compose(letter, mail_from=self.mail_from, public_url=self.public_url)
        except Skip as skip:
            return Attempt("skipped", str(skip))
        except NotFound:
            return Attempt("failed", "recipient_not_found")
        except Exception as error:  # a kind without a template, a record that will not load
            log.error("notice %s: cannot compose (%s)", delivery["notice_id"], type(error).__name__)
            return Attempt("failed", "cannot_compose")
        try:
            self.transport.send(message)
        except MailUndelivered as error:
            log.warning(
                "notice %s to %s: not delivered (%s)",
                delivery["notice_id"],
                delivery["recipient_role"],
                error,
            )
            last = delivery["attempts"] + 1 >= self.retries.max_attempts
            return Attempt("failed" if last else "pending", "mail_server_unavailable")
        return Attempt("sent")

    def _record(self, connection: Any, delivery: dict[str, Any], attempt: Attempt) -> None:
        now = self.now()
        wait = due_at(
            delivery["attempts"] + 1,
            self.retries.first_wait.total_seconds(),
            self.retries.longest_wait.total_seconds(),
        )
        next_attempt = now + timedelta(seconds=wait) if attempt.status == "pending" else now
        connection.execute(
            RECORD_ATTEMPT,
            (attempt.status, attempt.error, next_attempt, attempt.status, now, delivery["id"]),
        )
        log.info(
            "notice %s (%s) to %s: %s%s",
            delivery["notice_id"],
            delivery["kind"],
            delivery["recipient_role"],
            attempt.status,
            f" ({attempt.error})" if attempt.error else "",
        )

    def _letter(self, delivery: dict[str, Any]) -> Letter:
        """The letter for a delivery, from the records as they are now. Raises Skip
        or NotFound."""
        kind = delivery["kind"]
        if is_survey_kind(kind):
            return self._round_letter(delivery)
        relationship = self.mentoring.get_relationship(delivery["relationship_id"])
        scheme = self.mentoring.get_scheme(relationship.scheme_id)
        recipient, other = self._people(delivery, relationship)
        if KINDS[kind].reminder and not recipient.reminders:
            raise Skip("reminders_off")
        if kind == "invitation" and not (
            relationship.state == State.MENTOR_INVITED
            and str(relationship.mentor_id) == recipient.id
        ):
            raise Skip("invitation_answered")
        return Letter(
            notice_id=delivery["notice_id"],
            kind=kind,
            relationship_id=str(relationship.id),
            scheme_name=scheme.name,
            recipient=recipient,
            other=other,
        )

    def _people(
        self, delivery: dict[str, Any], relationship: Relationship
    ) -> tuple[Recipient, Party | None]:
        role, person = delivery["recipient_role"], delivery["recipient_id"]
        if role == "coordinator":
            account = self.staff.get(person)
            if account is None or not account.active:
                raise Skip("account_inactive")
            return Recipient(role, str(person), account.name, account.email), None
        mentee = self.mentoring.get_mentee(relationship.mentee_id)
        mentor = (
            self.mentoring.get_mentor(relationship.mentor_id)
            if relationship.mentor_id is not None
            else None
        )
        if role == "mentee":
            if mentee.left_at is not None:
                raise Skip("left_scheme")
            own = Recipient(role, str(mentee.id), mentee.name, mentee.email, mentee.reminders)
            return own, Party("mentor", mentor.name) if mentor is not None else None
        if mentor is None or mentor.id != person:
            mentor = self.mentoring.get_mentor(person)
        if mentor.left_at is not None:
            raise Skip("left_scheme")
        own = Recipient(role, str(mentor.id), mentor.name, mentor.email, mentor.reminders)
        return own, Party("mentee", mentee.name)


def is_survey_kind(kind: str) -> bool:
    """Whether a notice is a survey round's (its `relationship_id` is the round's id);
    a kind no message is known for is not."""
    known = KINDS.get(kind)
    return known is not None and known.page == "survey"
