"""ASGI middleware: security headers on every answer, limits on a request's URL and
body, and `Idempotency-Key` on every POST.

Idempotency: the first request with a key claims it, and its response is stored
when it completes (unless it failed on our side, 5xx: the claim is dropped so a
retry can run). A repeat returns the stored response and changes nothing; a repeat
while the first still runs gets 409; the same key with a different request, 422.
"""

import hashlib
import json
import re
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.problems import PROBLEM_JSON
from services.auth import hash_token
from services.idempotency import IdempotencyStore, StoredResponse

MAX_KEY_LENGTH = 200
KEY_LOC = ("header", "Idempotency-Key")
# Far beyond any URL of the API (the longest is an id, a few filters and a cursor).
MAX_URL_BYTES = 8 * 1024
# Far beyond any body of the API (a few levels); parsers and validators recurse.
MAX_JSON_DEPTH = 32
# Nothing may be loaded, run or framed, unless a response sets its own policy.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


async def send_response(
    send: Send, status: int, body: bytes, content_type: str, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})


async def send_problem(
    send: Send, status: int, title: str, detail: str, slug: str, loc: tuple[str, ...] = ()
) -> None:
    """A problem response; with `loc`, the `errors` of an invalid request (API.md)."""
    body: dict[str, object] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if loc:
        body["errors"] = [{"loc": list(loc), "msg": detail}]
    await send_response(send, status, json.dumps(body).encode(), PROBLEM_JSON, [])


def too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


class SecurityHeadersMiddleware:
    """Headers that make every answer fit for the open internet: `X-Content-Type-Options:
    nosniff` and `Referrer-Policy: no-referrer` on all; `API_POLICY` as the
    Content-Security-Policy of every answer that does not set its own (the docs
    page and the web pages do: services.web.pages.PAGE_POLICY); `Cache-Control:
    no-store` on every answer under /v1, where personal data is, so that no
    browser or shared cache keeps one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        personal = path == "/v1" or path.startswith("/v1/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers.setdefault("Content-Security-Policy", API_POLICY)
                if personal:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestLimitsMiddleware:
    """Refuses, with a problem and before the app sees it, a request whose URL (path,
    `?` and query) is longer than MAX_URL_BYTES (414), whose body is larger than the
    limit, whether announced by Content-Length or streamed (413), or whose JSON
    body nests arrays and objects deeper than MAX_JSON_DEPTH (400). The body is read
    whole first: a small one by definition, and a refusal is then one clean
    response, never an error raised half-way through parsing or validating."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope["query_string"]
        if len(path) + (len(query) + 1 if query else 0) > MAX_URL_BYTES:
            detail = f"the URL is longer than {MAX_URL_BYTES} bytes"
            await send_problem(send, 414, "URI too long", detail, "too-long")
            return
        headers = dict(scope["headers"])
        detail = too_large(self.max_body_bytes)
        announced = headers.get(b"content-length", b"")
        if announced.isdigit() and int(announced) > self.max_body_bytes:
            await send_problem(send, 413, "Payload too large", detail, "too-large")
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await send_problem(send, 413, "Payload too large", detail, "too-large")
            return
        if _read_as_json(headers.get(b"content-type", b"")) and nested_deeper_than(
            body, MAX_JSON_DEPTH
        ):
            detail = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
            await send_problem(send, 400, "Bad request", detail, "too-deep", ("body",))
            return
        await self.app(scope, _replaying_body(body, receive), send)


def _read_as_json(content_type: bytes) -> bool:
    """Whether FastAPI reads a body of this content type as JSON (also when none is
    given)."""
    media_type = content_type.split(b";")[0].strip().lower()
    return not media_type or media_type.endswith(b"json")


_STRUCTURAL = re.compile(rb'[\[\]{}"\\]')


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether the JSON in `body` nests arrays and objects more than `limit` deep,
    brackets inside strings aside. A linear scan that parses nothing, so it holds
    for any bytes, JSON or not."""
    depth = 0
    in_string = False
    escaped = -1  # the position of a character a backslash escapes
    for token in _STRUCTURAL.finditer(body):
        at, char = token.start(), token[0]
        if at == escaped:
            continue
        if in_string:
            if char == b"\\":
                escaped = at + 1
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth = max(depth - 1, 0)  # a stray closer opens no room for more
    return False


class IdempotencyMiddleware:
    """Pure ASGI, so a replay is exactly the bytes first sent."""

    def __init__(self, app: ASGIApp, store: IdempotencyStore, max_body_bytes: int) -> None:
        self.app = app
        self.store = store
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        key = headers.get(b"idempotency-key", b"").decode("latin-1")
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not key
            or not authorization.lower().startswith("bearer ")
        ):
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            detail = f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters"
            await send_problem(send, 422, "Invalid request", detail, "validation", KEY_LOC)
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            detail = too_large(self.max_body_bytes)
            await send_problem(send, 413, "Payload too large", detail, "too-large")
            return
        token_hash = hash_token(authorization[7:].strip())
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        # The store commits to PostgreSQL: off the event loop, or every other
        # connection waits for this one's round trips.
        stored = await run_in_threadpool(self.store.claim, token_hash, key, fingerprint)
        if stored is not None:
            await _replay(send, stored, fingerprint)
            return

        async def keep(status: int, content_type: str, body: bytes) -> None:
            # Runs before the client gets the last byte: a repeat can never find
            # the key still in progress once the first answer has arrived.
            if status >= 500:
                await run_in_threadpool(self.store.release, token_hash, key)
            else:
                await run_in_threadpool(
                    self.store.complete, token_hash, key, status, content_type, body
                )

        response = _Captured(send, keep)
        try:
            await self.app(scope, _replaying_body(body, receive), response.send)
        finally:
            if not response.kept:
                await run_in_threadpool(self.store.release, token_hash, key)


class _Captured:
    """Passes a response through, keeping a copy that is stored just before the last
    part of the body goes out."""

    def __init__(self, send: Send, keep: Callable[[int, str, bytes], Awaitable[None]]) -> None:
        self._send = send
        self._keep = keep
        self.kept = False
        self.status = 500
        self.content_type = ""
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                await self._keep(self.status, self.content_type, self.body)
                self.kept = True
        await self._send(message)


async def _replay(send: Send, stored: StoredResponse, fingerprint: str) -> None:
    if stored.fingerprint != fingerprint:
        detail = "this Idempotency-Key was used for a different request"
        await send_problem(send, 422, "Invalid request", detail, "idempotency", KEY_LOC)
    elif stored.status is None:
        detail = "a request with this Idempotency-Key is still in progress"
        await send_problem(send, 409, "Conflict", detail, "idempotency")
    else:
        replayed = [(b"idempotency-replayed", b"true")]
        await send_response(send, stored.status, stored.body, stored.content_type, replayed)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None if it is larger than `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying_body(body: bytes, receive: Receive) -> Receive:
    """Gives the app the body already read, then what the client sends next (its
    disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
