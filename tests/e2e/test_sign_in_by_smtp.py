"""With MENTORING_SMTP_URL set, the sign-in link goes through a real mail server
(aiosmtpd, running in the test), and the link it carries signs in."""

import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.conftest import free_port
from tests.support.web import Site, follow_link, hidden_fields, link_in, serving_pages


class Mailbox:
    """What the mail server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture(scope="module")
def site(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Mailbox, int]
) -> Iterator[Site]:
    var_dir: Path = tmp_path_factory.mktemp("var")
    smtp = f"smtp://127.0.0.1:{mailbox[1]}"
    with serving_pages(postgres_server, var_dir, MENTORING_SMTP_URL=smtp) as site:
        yield site


def test_a_link_sent_through_the_mail_server_signs_in(
    site: Site, mailbox: tuple[Mailbox, int]
) -> None:
    received, _ = mailbox
    scheme = site.api.scheme()["id"]
    body = {"name": "Dr Smtp", "email": "smtp@example.nhs.uk", "role": "coordinator"}
    site.api.ok(site.api.admin.post("/v1/staff", json=body | {"scheme_ids": [scheme]}), 201)
    client = site.visitor()
    form = hidden_fields(client.get("/sign-in").text)

    assert client.post("/sign-in", data={"email": "smtp@example.nhs.uk", **form}).is_success

    deadline = time.monotonic() + 10
    while not received.messages:
        assert time.monotonic() < deadline, "nothing reached the mail server"
        time.sleep(0.05)
    (message,) = received.messages
    assert message["To"] == "smtp@example.nhs.uk"
    assert follow_link(client, link_in(message)).status_code == 303
    assert "Dr Smtp" in client.get("/").text
    assert site.mail.messages() == []  # nothing written to var/mail
