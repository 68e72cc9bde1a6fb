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
    """What the server accepted, in order. `hold` (an Event) makes the server wait,
    once `holding` is set, before accepting a message, and refuse it if the client
    has gone meanwhile (a server that had not accepted it when the client died)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.hold: threading.Event | None = None
        self.holding = threading.Event()
        self.refused = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold is not None:
            self.holding.set()
            while not self.hold.is_set():
                if server.transport is None or server.transport.is_closing():
                    self.refused += 1
                    return "451 the client went away"
                await asyncio.sleep(0.01)
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
