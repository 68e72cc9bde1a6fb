"""Where messages go: the mail server of MENTORING_SMTP_URL, or, on the embedded
default, one RFC 5322 `.eml` file per message under `var/mail/`.

Both are keyed by the message's `Message-ID`: the directory writes the same file
again for the same id, and a mail server that gets a message twice shows the same
id twice, so whoever sends keeps that id stable and records what it sent.
"""

import os
import smtplib
import ssl
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from services.config import ConfigError, Settings

SMTP_TIMEOUT_SECONDS = 30


class MailUndelivered(Exception):
    """The transport could not take the message; it may be tried again later."""


class MailTransport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand over one message, which has a `Message-ID`. Raises MailUndelivered."""


@dataclass(frozen=True)
class StoredMessage:
    """A message written by MailDirectory: its file's name (the id `mentoring mail
    show` takes) and the message."""

    id: str
    message: EmailMessage


class MailDirectory:
    """Each message as `<directory>/<id>.eml`, where the id is the Message-ID's local
    part made safe for a file name. Written to a temporary file and renamed, so a
    reader never sees half a message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        name = file_name_of(message)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = self.directory / f".{name}.tmp"
            temporary.write_bytes(message.as_bytes(policy=policy.SMTP))
            os.replace(temporary, self.directory / f"{name}.eml")
        except OSError as error:
            raise MailUndelivered(f"cannot write to {self.directory}: {error.strerror}") from None

    def messages(self) -> list[StoredMessage]:
        """Every message written, oldest first."""
        if not self.directory.is_dir():
            return []
        paths = sorted(self.directory.glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [StoredMessage(path.stem, _read(path)) for path in paths]

    def message(self, message_id: str) -> StoredMessage | None:
        """The message with this id (a file name without `.eml`), or None."""
        path = self.directory / f"{message_id}.eml"
        if "/" in message_id or message_id.startswith(".") or not path.is_file():
            return None
        return StoredMessage(message_id, _read(path))


class SmtpServer:
    """A mail server: `smtp://[user:password@]host[:port]` (587 by default, STARTTLS
    whenever the server offers it) or `smtps://…` (TLS from the start, 465)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigError(
                "MENTORING_SMTP_URL must look like smtp://user:password@host:587"
                f" or smtps://host:465, not {_without_password(url)!r}"
            )
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        try:
            self.port = parts.port or (465 if self.implicit_tls else 587)
        except ValueError:
            raise ConfigError("MENTORING_SMTP_URL has a port that is not a number") from None
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if not self.implicit_tls:
                    smtp.ehlo()
                    if smtp.has_extn("starttls"):
                        smtp.starttls(context=ssl.create_default_context())
                        smtp.ehlo()
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailUndelivered(f"{self.host}:{self.port}: {type(error).__name__}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                timeout=SMTP_TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)


def mail_directory(settings: Settings) -> MailDirectory:
    """Where the embedded default writes mail: `var/mail/`."""
    return MailDirectory(settings.var_dir / "mail")


def transport_from(settings: Settings) -> MailTransport:
    """The mail server of MENTORING_SMTP_URL, else the mail directory. Raises
    ConfigError for a malformed URL."""
    if settings.smtp_url is None:
        return mail_directory(settings)
    return SmtpServer(settings.smtp_url)


def file_name_of(message: EmailMessage) -> str:
    """The file name (without `.eml`) for a message: its Message-ID's local part, with
    anything but letters, digits, `-`, `_` and `.` replaced. Raises ValueError when
    the message has no Message-ID."""
    message_id = message["Message-ID"]
    if not message_id:
        raise ValueError("a message needs a Message-ID")
    local = str(message_id).strip().strip("<>").split("@", 1)[0]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in local).lstrip(".")
    return safe or "message"


def _read(path: Path) -> EmailMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)
