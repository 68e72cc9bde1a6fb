"""The pages served for real, and a visitor who signs in to them as a person would:
asking for a link, reading the `.eml` written under var/mail, following the link
and pressing its button."""

import html
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from services.mail.transport import MailDirectory
from services.web.throttling import SignInRequests
from tests.e2e.client import Api
from tests.e2e.conftest import free_port, serving

LINK = re.compile(r"https?://\S+/sign-in/link\?token=[A-Za-z0-9_\-]+")
HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[a-z_]+)" value="(?P<value>[^"]*)">')
MAIL_WITHIN = 10.0


@dataclass
class Site:
    """The service, its mail directory, and where it is."""

    api: Api
    mail: MailDirectory

    @property
    def base_url(self) -> str:
        return self.api.base_url

    def visitor(self) -> httpx.Client:
        """A browser-like client: keeps cookies, follows no redirects by itself."""
        return httpx.Client(base_url=self.base_url, timeout=30)

    def mail_to(self, email: str, after: int = 0) -> list[EmailMessage]:
        """The messages sent to `email`, oldest first, beyond the first `after`."""
        found = [m.message for m in self.mail.messages() if m.message["To"] == email]
        return found[after:]

    def wait_for_mail(self, email: str, after: int) -> EmailMessage:
        """The next message to `email` beyond the first `after`, once it is written."""
        deadline = time.monotonic() + MAIL_WITHIN
        while not (messages := self.mail_to(email, after)):
            assert time.monotonic() < deadline, f"no mail for {email} in {MAIL_WITHIN} s"
            time.sleep(0.05)
        return messages[0]


@contextmanager
def serving_pages(postgres_server: str, var_dir: Path, **variables: str) -> Iterator[Site]:
    """The service on a port of its own whose public URL names it, writing its mail
    under `var_dir`/mail; sign-in links may be asked for without limit (the throttle
    has a test of its own)."""
    port = free_port()
    with serving(
        postgres_server,
        MENTORING_PORT=str(port),
        MENTORING_PUBLIC_URL=f"http://127.0.0.1:{port}",
        MENTORING_VAR_DIR=str(var_dir),
        MENTORING_AUTH_FAILURES_PER_MINUTE="1000",
        **variables,
    ) as api:
        api.runtime.sign_in_requests = SignInRequests(per_address=10_000, per_email=10_000)
        yield Site(api, MailDirectory(var_dir / "mail"))


def notices_to(site: Site, email: str) -> list[EmailMessage]:
    """The messages to `email` however they name it ("Name <email>" too), oldest first."""
    return [m.message for m in site.mail.messages() if parseaddr(str(m.message["To"]))[1] == email]


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden fields of the forms on a page (the last of each name)."""
    return {m["name"]: html.unescape(m["value"]) for m in HIDDEN.finditer(page)}


def link_in(message: EmailMessage) -> str:
    """The sign-in link of a message, from its plain-text part."""
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, "no sign-in link in the message"
    return found[0]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def ask_for_link(site: Site, client: httpx.Client, email: str, next_path: str = "/") -> str:
    """Ask for a link as the sign-in page does; the link from the mail that comes."""
    already = len(site.mail_to(email))
    form = client.get("/sign-in", params={"next": next_path})
    assert form.status_code == 200, form.text
    answer = client.post(
        "/sign-in",
        data={"email": email, "next": next_path, **hidden_fields(form.text)},
    )
    assert answer.status_code == 200, answer.text
    return link_in(site.wait_for_mail(email, already))


def follow_link(client: httpx.Client, link: str) -> httpx.Response:
    """Open a link and press its button: the answer to the press."""
    opened = client.get(path_of(link))
    assert opened.status_code == 200, opened.text
    return client.post("/sign-in/link", data=hidden_fields(opened.text))


def signed_in_visitor(site: Site, email: str, next_path: str = "/") -> httpx.Client:
    """A visitor signed in by the link emailed to `email`."""
    client = site.visitor()
    pressed = follow_link(client, ask_for_link(site, client, email, next_path))
    assert pressed.status_code == 303, pressed.text
    return client
