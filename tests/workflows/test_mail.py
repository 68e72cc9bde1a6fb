"""From the timers to the mailbox, on the time-skipping test server: a pair whose
first meeting is overdue is reminded, both of them, and the scheme's coordinator
gets the escalation, through a real SMTP server, each exactly once."""

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from psycopg_pool import ConnectionPool

from services.mail.transport import MailDirectory, SmtpServer
from services.staff import StaffStore
from tests.support.mail import PUBLIC_URL, sender_on
from tests.support.smtp import SmtpTestServer
from tests.workflows.harness import Harness, outbox_rows
from tests.workflows.support import COORDINATOR, create_scheme, register_mentor, request_mentor

pytestmark = pytest.mark.anyio

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer()
    server.start()
    yield server
    server.stop()


def links_in(message: EmailMessage) -> list[str]:
    text = message.get_body(("plain",)).get_content()
    return [word for word in text.split() if word.startswith("http")]


def subject(message: EmailMessage) -> str:
    return str(message["Subject"]).split(": ", 1)[1]


@pytest.mark.parametrize("transport", ["smtp", "eml"])
async def test_an_overdue_first_meeting_reminds_both_and_escalates_to_the_coordinator(
    harness: Harness, database_url: str, smtp: SmtpTestServer, tmp_path: Path, transport: str
) -> None:
    """Through the SMTP server, and on the embedded default as `.eml` files."""
    mentoring = harness.mentoring
    scheme = create_scheme(mentoring, require_mentor_acceptance=False)
    relationship = request_mentor(mentoring, scheme)
    mentoring.invite_mentor(relationship, register_mentor(mentoring, scheme), COORDINATOR)
    with ConnectionPool(database_url, min_size=1, kwargs={"autocommit": True}) as pool:
        StaffStore(pool).add("Coordinator", "coordinator@example.org", "coordinator", (scheme,))
    await harness.settle()

    await harness.sleep(28 * DAY + SECOND)  # first_meeting_within
    await harness.sleep(14 * DAY + SECOND)  # escalate_after
    assert outbox_rows(database_url, relationship) == [
        ("pair", "no_first_meeting"),
        ("coordinator", "escalated"),
    ]

    directory = MailDirectory(tmp_path / "mail")
    chosen = SmtpServer(smtp.url) if transport == "smtp" else directory
    with sender_on(mentoring, database_url, chosen) as sender:
        for _ in range(3):
            sender.round()

    if transport == "smtp":
        messages = smtp.mailbox.messages
        ids = smtp.mailbox.ids()
    else:
        messages = [stored.message for stored in directory.messages()]
        ids = [stored.id for stored in directory.messages()]
        assert len(list((tmp_path / "mail").glob("*.eml"))) == len(messages)
    sent = Counter((subject(m), m["To"].addresses[0].addr_spec) for m in messages)
    assert sent == {
        ("you have been matched - please arrange your first meeting", "mentor@example.org"): 1,
        ("you have been matched - please arrange your first meeting", "mentee@example.org"): 1,
        ("your first meeting is overdue", "mentor@example.org"): 1,
        ("your first meeting is overdue", "mentee@example.org"): 1,
        ("a stalled pair needs your attention", "coordinator@example.org"): 1,
    }
    assert len(set(ids)) == len(ids) == len(messages)

    pages = {}
    for message in messages:
        (link,) = links_in(message)
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
        assert parts.path == "/sign-in"
        pages[(subject(message), message["To"].addresses[0].addr_spec)] = parse_qs(parts.query)[
            "next"
        ]
    assert pages[("your first meeting is overdue", "mentee@example.org")] == [
        f"/my/relationships/{relationship}"
    ]
    assert pages[("a stalled pair needs your attention", "coordinator@example.org")] == [
        f"/pairs/{relationship}"
    ]
