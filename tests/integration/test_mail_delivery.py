"""Notices delivered through a real SMTP server (aiosmtpd) and the mail directory:
to each recipient once, with retries while the mail server is down, nothing lost
and nothing repeated when the sender crashes mid-batch."""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool
import pytest

from domain.actors import Actor
from services.application import Mentoring
from services.mail.notices import EventNotices
from services.mail.sender import Retries
from services.mail.transport import MailDirectory, SmtpServer
from services.persistence import create_cipher_key, postgres_env
from services.staff import StaffStore
from tests.support.mail import (
    PUBLIC_URL,
    Clock,
    Pair,
    accept,
    invited_pair,
    matched_pair,
    sender_on,
)
from tests.support.smtp import SmtpTestServer
from workflows.model import Notice
from workflows.outbox import Outbox

pytestmark = pytest.mark.postgres


class Crash(BaseException):
    """The sender's thread dies (as it would on SIGKILL): nothing after it runs."""


@pytest.fixture
def mentoring(database_url: str) -> Iterator[Mentoring]:
    app = Mentoring(env=postgres_env(database_url, create_cipher_key()))
    yield app
    app.close()


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer()
    server.start()
    yield server
    server.stop()


def deliveries(database_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as connection:
        return connection.execute(
            "SELECT kind, recipient_role, status, attempts, last_error, next_attempt_at"
            " FROM notification_deliveries ORDER BY id"
        ).fetchall()


def addressed(messages: list[EmailMessage]) -> Counter[tuple[str, str]]:
    """(first word of the subject after the scheme, recipient address) of each message."""
    return Counter(
        (str(m["Subject"]).split(": ", 1)[1], m["To"].addresses[0].addr_spec) for m in messages
    )


def coordinator(database_url: str, pair: Pair) -> None:
    from psycopg_pool import ConnectionPool

    with ConnectionPool(database_url, min_size=1, kwargs={"autocommit": True}) as pool:
        StaffStore(pool).add(
            "Cara Coordinator", "cara@example.nhs.uk", "coordinator", (pair.scheme_id,)
        )


def overdue_and_escalated(database_url: str, pair: Pair) -> None:
    """The notices the workflow records when the first meeting is overdue and the
    stall is escalated (tests/workflows has them recorded by the real timers)."""
    from psycopg_pool import ConnectionPool

    with ConnectionPool(database_url, min_size=1) as pool:
        outbox = Outbox(pool)
        outbox.create_table()
        rid = str(pair.relationship_id)
        outbox.record(Notice(rid, "pair", "no_first_meeting", "first_meeting_within:t"))
        outbox.record(Notice(rid, "coordinator", "escalated", "escalate_after:t"))


def test_the_invitation_and_the_match_reach_the_mentor_and_both_of_the_pair_once(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer
) -> None:
    pair = invited_pair(mentoring)
    with sender_on(mentoring, database_url, SmtpServer(smtp.url)) as sender:
        sender.round()
        accept(mentoring, pair)
        sender.round()
        sender.round()

    assert addressed(smtp.mailbox.messages) == {
        ("you are invited to mentor", "ada.mentor@example.nhs.uk"): 1,
        (
            "you have been matched - please arrange your first meeting",
            "ada.mentor@example.nhs.uk",
        ): 1,
        (
            "you have been matched - please arrange your first meeting",
            "ben.mentee@example.nhs.uk",
        ): 1,
    }
    assert len(set(smtp.mailbox.ids())) == 3
    assert [d["status"] for d in deliveries(database_url)] == ["sent"] * 3
    invitation = smtp.mailbox.messages[0]
    text = invitation.get_body(("plain",)).get_content()
    path = f"/my/invitations/{pair.relationship_id}"
    assert (
        f"{PUBLIC_URL}/sign-in?next=%2Fmy%2Finvitations%2F{pair.relationship_id}%3Fanswer%3Daccept"
        in text
    )
    assert (
        f"{PUBLIC_URL}/sign-in?next=%2Fmy%2Finvitations%2F{pair.relationship_id}%3Fanswer%3Ddecline"
        in text
    )
    assert "North West CMT mentoring" in str(invitation["Subject"])
    assert "Dr Ben Mentee (mentee)" in text
    assert path not in text  # the path only travels encoded, as the sign-in page's `next`


def test_the_overdue_first_meeting_reminds_both_and_escalates_to_the_coordinator(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer
) -> None:
    pair = matched_pair(mentoring)
    coordinator(database_url, pair)
    overdue_and_escalated(database_url, pair)
    with sender_on(mentoring, database_url, SmtpServer(smtp.url)) as sender:
        sender.round()
        sender.round()

    got = addressed(smtp.mailbox.messages)
    assert got[("your first meeting is overdue", "ada.mentor@example.nhs.uk")] == 1
    assert got[("your first meeting is overdue", "ben.mentee@example.nhs.uk")] == 1
    assert got[("a stalled pair needs your attention", "cara@example.nhs.uk")] == 1
    assert sum(got.values()) == 5
    (escalation,) = [m for m in smtp.mailbox.messages if "stalled" in str(m["Subject"])]
    html = escalation.get_body(("html",)).get_content()
    assert f'href="{PUBLIC_URL}/sign-in?next=%2Fpairs%2F{pair.relationship_id}"' in html


def test_mail_waits_with_backoff_while_the_server_is_down_then_goes_once(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer
) -> None:
    matched_pair(mentoring)
    clock = Clock()
    retries = Retries(first_wait=timedelta(seconds=30), longest_wait=timedelta(minutes=5))
    smtp.stop()
    with sender_on(mentoring, database_url, SmtpServer(smtp.url), clock, retries) as sender:
        assert sender.round() == 1  # the first refusal ends the batch
        first = deliveries(database_url)[0]
        assert (first["status"], first["attempts"]) == ("pending", 1)
        assert first["last_error"] == "mail_server_unavailable"
        assert first["next_attempt_at"] == clock.now() + timedelta(seconds=30)

        waits = set()
        for _ in range(10):
            clock.advance(timedelta(minutes=10))
            sender.round()
            waits |= {
                (d["attempts"], d["next_attempt_at"] - clock.now())
                for d in deliveries(database_url)
                if d["next_attempt_at"] > clock.now()
            }
        # Each try waits twice as long as the one before, at most five minutes.
        assert {(n, timedelta(seconds=min(30 * 2 ** (n - 1), 300))) for n in range(1, 6)} <= waits
        assert all(wait == timedelta(seconds=min(30 * 2 ** (n - 1), 300)) for n, wait in waits)
        assert all(d["status"] == "pending" for d in deliveries(database_url))
        assert smtp.mailbox.messages == []

        smtp.start()
        clock.advance(timedelta(minutes=10))
        while sender.round():
            pass

    assert len(smtp.mailbox.messages) == 2
    assert len(set(smtp.mailbox.ids())) == 2
    assert [d["status"] for d in deliveries(database_url)] == ["sent"] * 2


def test_a_delivery_is_marked_failed_after_its_last_attempt(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer
) -> None:
    matched_pair(mentoring)
    clock = Clock()
    smtp.stop()
    retries = Retries(first_wait=timedelta(seconds=1), max_attempts=3)
    with sender_on(mentoring, database_url, SmtpServer(smtp.url), clock, retries) as sender:
        for _ in range(12):
            sender.round()
            clock.advance(timedelta(minutes=1))
    assert [(d["status"], d["attempts"]) for d in deliveries(database_url)] == [("failed", 3)] * 2


class CrashingTransport:
    """Hands messages to `transport`; crashes before (or after) the `at`-th."""

    def __init__(self, transport: Any, at: int, after_sending: bool = False) -> None:
        self.transport, self.at, self.after_sending = transport, at, after_sending
        self.count = 0

    def send(self, message: EmailMessage) -> None:
        self.count += 1
        if self.count == self.at and not self.after_sending:
            raise Crash
        self.transport.send(message)
        if self.count == self.at:
            raise Crash


def test_a_sender_that_dies_mid_batch_loses_nothing_and_repeats_nothing(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer
) -> None:
    pair = matched_pair(mentoring)
    coordinator(database_url, pair)
    overdue_and_escalated(database_url, pair)
    crashing = CrashingTransport(SmtpServer(smtp.url), at=4)
    with sender_on(mentoring, database_url, crashing) as sender, pytest.raises(Crash):
        sender.round()
    assert len(smtp.mailbox.messages) == 3

    with sender_on(mentoring, database_url, SmtpServer(smtp.url)) as sender:
        sender.round()
        sender.round()

    ids = smtp.mailbox.ids()
    assert len(ids) == 5
    assert Counter(ids).most_common(1)[0][1] == 1
    assert all(d["status"] == "sent" for d in deliveries(database_url))


def test_a_death_between_accepted_and_recorded_repeats_one_message_with_the_same_id(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    """The at-least-once window: the server took the message, the sender died before
    its commit. The repeat carries the same Message-ID (mail clients collapse it);
    the mail directory keeps one file per Message-ID, so there it is exactly once."""
    matched_pair(mentoring)
    crashing = CrashingTransport(SmtpServer(smtp.url), at=2, after_sending=True)
    with sender_on(mentoring, database_url, crashing) as sender, pytest.raises(Crash):
        sender.round()
    with sender_on(mentoring, database_url, SmtpServer(smtp.url)) as sender:
        sender.round()
    ids = Counter(smtp.mailbox.ids())
    assert sorted(ids.values()) == [1, 2]

    directory = MailDirectory(tmp_path / "mail")
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("UPDATE notification_deliveries SET status = 'pending'")
    crashing = CrashingTransport(directory, at=2, after_sending=True)
    with sender_on(mentoring, database_url, crashing) as sender, pytest.raises(Crash):
        sender.round()
    with sender_on(mentoring, database_url, directory) as sender:
        sender.round()
    assert len(directory.messages()) == 2
    assert {f"<{m.id}@example.nhs.uk>" for m in directory.messages()} == set(ids)


def test_the_embedded_default_writes_each_message_once_as_an_eml_file(
    mentoring: Mentoring, database_url: str, tmp_path: Path
) -> None:
    pair = matched_pair(mentoring)
    coordinator(database_url, pair)
    overdue_and_escalated(database_url, pair)
    directory = MailDirectory(tmp_path / "mail")
    with sender_on(mentoring, database_url, directory) as sender:
        for _ in range(3):
            sender.round()
    stored = directory.messages()
    assert len(stored) == 5
    recipients = Counter(str(s.message["To"]) for s in stored)
    assert recipients == {
        "Dr Ada Mentor <ada.mentor@example.nhs.uk>": 2,
        "Dr Ben Mentee <ben.mentee@example.nhs.uk>": 2,
        "Cara Coordinator <cara@example.nhs.uk>": 1,
    }
    assert sorted(p.name for p in (tmp_path / "mail").iterdir()) == sorted(
        f"{s.id}.eml" for s in stored
    )


def test_a_person_who_turned_reminders_off_gets_no_reminder_but_still_the_match(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer
) -> None:
    pair = matched_pair(mentoring)
    mentoring.update_mentee(pair.mentee_id, Actor("mentee", str(pair.mentee_id)), reminders=False)
    overdue_and_escalated(database_url, pair)
    with sender_on(mentoring, database_url, SmtpServer(smtp.url)) as sender:
        sender.round()
        sender.round()
    got = addressed(smtp.mailbox.messages)
    assert got[("your first meeting is overdue", "ada.mentor@example.nhs.uk")] == 1
    assert got[("your first meeting is overdue", "ben.mentee@example.nhs.uk")] == 0
    assert (
        got[
            (
                "you have been matched - please arrange your first meeting",
                "ben.mentee@example.nhs.uk",
            )
        ]
        == 1
    )
    skipped = [d for d in deliveries(database_url) if d["status"] == "skipped"]
    assert [(d["kind"], d["recipient_role"], d["last_error"]) for d in skipped] == [
        ("no_first_meeting", "mentee", "reminders_off")
    ]


def test_no_message_carries_sealed_reasons_demographics_or_the_other_partys_profile(
    mentoring: Mentoring, database_url: str, tmp_path: Path
) -> None:
    markers = {
        "demographic": "Demographic-Marker-7Q",
        "objective": "Objective-Marker-3K",
        "reason": "Sealed-Reason-Marker-9Z",
        "institution": "Institution-Marker-5W",
    }
    pair = matched_pair(
        mentoring,
        demographics={"ethnicity": markers["demographic"]},
        objectives=[markers["objective"]],
        institution=markers["institution"],
    )
    coordinator(database_url, pair)
    overdue_and_escalated(database_url, pair)
    mentoring.end(
        pair.relationship_id, "no_blame", markers["reason"], Actor("mentee", str(pair.mentee_id))
    )
    mentoring.rematch(pair.relationship_id, Actor("admin", "admin-1"))
    directory = MailDirectory(tmp_path / "mail")
    with sender_on(mentoring, database_url, directory) as sender:
        sender.round()
        sender.round()

    stored = directory.messages()
    assert {str(s.message["Subject"]).split(": ", 1)[1] for s in stored} >= {
        "we are finding you a new mentor",
        "a stalled pair needs your attention",
    }
    for message in (s.message for s in stored):
        raw = message.as_string()
        for marker in markers.values():
            assert marker not in raw
        decoded = "".join(part.get_content() for part in message.walk() if not part.is_multipart())
        for marker in markers.values():
            assert marker not in decoded
        own = message["To"].addresses[0].addr_spec
        for address in ("ada.mentor@example.nhs.uk", "ben.mentee@example.nhs.uk"):
            if address != own:
                assert address not in decoded


def test_events_recorded_before_the_service_first_sent_mail_are_not_announced_late(
    mentoring: Mentoring, database_url: str, tmp_path: Path
) -> None:
    """An upgraded deployment: the API starts the sender's tracking at the events
    recorded so far, so only the pairs matched from then on hear of their match."""
    matched_pair(mentoring)
    with psycopg_pool.ConnectionPool(database_url, min_size=1, kwargs={"autocommit": True}) as pool:
        notices = EventNotices(mentoring, pool)
        notices.create_table()
        notices.start_at_head()
        notices.start_at_head()  # a second start keeps the position
    directory = MailDirectory(tmp_path / "mail")
    with sender_on(mentoring, database_url, directory) as sender:
        sender.round()
        assert directory.messages() == []
        matched_pair(mentoring)
        sender.round()
    assert len(directory.messages()) == 2


def test_a_notice_that_cannot_be_written_fails_alone_and_the_rest_are_sent(
    mentoring: Mentoring, database_url: str, tmp_path: Path
) -> None:
    pair = matched_pair(mentoring)
    with psycopg_pool.ConnectionPool(database_url, min_size=1) as pool:
        outbox = Outbox(pool)
        outbox.create_table()
        outbox.record(Notice(str(pair.relationship_id), "pair", "a_kind_from_the_future", "k"))
    directory = MailDirectory(tmp_path / "mail")
    with sender_on(mentoring, database_url, directory) as sender:
        sender.round()
    assert len(directory.messages()) == 2
    failed = [d for d in deliveries(database_url) if d["status"] == "failed"]
    assert [(d["kind"], d["last_error"]) for d in failed] == [
        ("a_kind_from_the_future", "cannot_compose")
    ] * 2


def test_an_outbox_of_the_previous_release_takes_notices_for_one_person(
    database_url: str,
) -> None:
    previous = (
        "CREATE TABLE notification_outbox (id bigserial PRIMARY KEY, relationship_id uuid NOT NULL,"
        " audience text NOT NULL CHECK (audience IN ('coordinator', 'pair')),"
        " kind text NOT NULL, dedupe_key text NOT NULL,"
        " recorded_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz,"
        " UNIQUE (relationship_id, kind, dedupe_key))"
    )
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(previous)
    with psycopg_pool.ConnectionPool(database_url, min_size=1) as pool:
        outbox = Outbox(pool)
        outbox.create_table()
        outbox.create_table()
        rid = "8b0c5b1e-0000-4000-8000-000000000001"
        assert outbox.record(Notice(rid, "mentor", "invitation", "v2"))
        assert not outbox.record(Notice(rid, "mentor", "invitation", "v2"))
        with pytest.raises(psycopg.errors.CheckViolation):
            outbox.record(Notice(rid, "everyone", "invitation", "v3"))


def test_the_running_sender_delivers_new_notices_until_stopped(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer
) -> None:
    stop = threading.Event()
    with sender_on(mentoring, database_url, SmtpServer(smtp.url)) as sender:
        running = threading.Thread(target=sender.run, args=(stop, 0.05))
        running.start()
        try:
            matched_pair(mentoring)
            deadline = time.monotonic() + 20
            while len(smtp.mailbox.messages) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            running.join(timeout=10)
    assert not running.is_alive()
    assert len(smtp.mailbox.messages) == 2
