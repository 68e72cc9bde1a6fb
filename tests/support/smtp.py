"""A real SMTP server for tests (aiosmtpd on a free local port) that keeps what it
accepts, and can be stopped and started again on the same port."""

import asyncio
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from workflows.devserver import free_port


class Mailbox:
    """What the server accepted, in order. With `hold_after` = n, the server holds
    the message after the n-th (and sets `holding`) until `release()`, and refuses
    it if the client has gone meanwhile: a server that had not accepted it when the
    client died."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.hold_after: int | None = None
        self.holding = threading.Event()
        self.released = threading.Event()
        self.refused = 0
        self._lock = threading.Lock()

    def release(self) -> None:
        self.hold_after = None
        self.released.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold_after is not None and len(self.messages) >= self.hold_after:
            self.holding.set()
            try:
                while not self.released.is_set():
                    await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                # aiosmtpd cancels the session when the client goes away.
                self.refused += 1
                raise
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        with self._lock:
            return [str(message["Message-ID"]).strip() for message in self.messages]


class SmtpTestServer:
    """aiosmtpd on 127.0.0.1:`port`, delivering into `mailbox`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
