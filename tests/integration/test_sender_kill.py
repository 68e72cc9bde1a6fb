"""Killing the sender process (SIGKILL) mid-batch, while the mail server holds a
message it has not yet accepted, loses nothing and repeats nothing: a new sender
delivers the rest, and the mailbox holds exactly one copy of each message."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from services.application import Mentoring
from services.mail.transport import SmtpServer
from services.persistence import create_cipher_key, postgres_env
from tests.support.mail import MAIL_FROM, PUBLIC_URL, matched_pair, sender_on
from tests.support.smtp import SmtpTestServer

pytestmark = pytest.mark.postgres

CIPHER_KEY = create_cipher_key()
PAIRS = 8
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mentoring(database_url: str) -> Iterator[Mentoring]:
    app = Mentoring(env=postgres_env(database_url, CIPHER_KEY))
    yield app
    app.close()


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer()
    server.start()
    yield server
    server.stop()


def statuses(database_url: str) -> Counter[str]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT status FROM notification_deliveries").fetchall()
    return Counter(status for (status,) in rows)


def test_a_sender_killed_mid_batch_leaves_exactly_one_copy_of_each_message(
    mentoring: Mentoring, database_url: str, smtp: SmtpTestServer, tmp_path: Path
) -> None:
    for _ in range(PAIRS):
        matched_pair(mentoring)
    smtp.mailbox.hold_after = 5
    log_path = tmp_path / "sender.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "send"],
            env={
                **os.environ,
                "MENTORING_DATABASE_URL": database_url,
                "MENTORING_CIPHER_KEY": CIPHER_KEY,
                "MENTORING_SMTP_URL": smtp.url,
                "MENTORING_MAIL_FROM": MAIL_FROM,
                "MENTORING_PUBLIC_URL": PUBLIC_URL,
            },
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        assert smtp.mailbox.holding.wait(60), log_path.read_text()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 10
    while smtp.mailbox.refused == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    smtp.mailbox.release()
    assert smtp.mailbox.refused == 1  # the message in flight was never accepted
    assert len(smtp.mailbox.messages) == 5
    assert statuses(database_url) == {"sent": 5, "pending": 2 * PAIRS - 5}

    with sender_on(mentoring, database_url, SmtpServer(smtp.url)) as sender:
        while sender.round():
            pass

    ids = Counter(smtp.mailbox.ids())
    assert len(ids) == 2 * PAIRS
    assert set(ids.values()) == {1}
    assert len(smtp.mailbox.messages) == 2 * PAIRS
    assert statuses(database_url) == {"sent": 2 * PAIRS}
