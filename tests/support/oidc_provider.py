"""A real OpenID Connect provider for the tests: oidc-provider-mock (authlib's
authorization server, RS256-signed ID tokens, a JWKS, discovery), served by
werkzeug on a thread, with a window on what passes through it.

The window records the query of every authorization request and the form and
`Authorization` header of every token request (so a test sees the PKCE challenge
and verifier, and the client's credentials), and can rewrite the provider's next
token answer (so a test can hand the service a token issued to another client, or
signed with another key). The mock itself does not check PKCE; the tests check
the pair the service sent.
"""

import base64
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import oidc_provider_mock
import werkzeug.serving

TokenAnswer = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass
class Window:
    """WSGI middleware in front of the provider; see the module's docstring."""

    app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
    authorizations: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    token_credentials: list[str] = field(default_factory=list)
    rewrite_next_token_answer: Callable[[TokenAnswer], TokenAnswer] | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize" and environ["REQUEST_METHOD"] == "GET":
            self.authorizations.append(dict(parse_qsl(environ.get("QUERY_STRING", ""))))
        if path == "/oauth2/token" and environ["REQUEST_METHOD"] == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            self.token_requests.append(dict(parse_qsl(body.decode())))
            self.token_credentials.append(environ.get("HTTP_AUTHORIZATION", ""))
            rewrite, self.rewrite_next_token_answer = self.rewrite_next_token_answer, None
            if rewrite is not None:
                return self._rewritten(environ, start_response, rewrite)
        return self.app(environ, start_response)

    def _rewritten(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        rewrite: Callable[[TokenAnswer], TokenAnswer],
    ) -> Iterable[bytes]:
        answered: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.update(status=status, headers=headers)
            return lambda data: None

        original = b"".join(self.app(environ, capture))
        body = json.dumps(rewrite(json.loads(original))).encode()
        headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
        start_response(answered["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


@dataclass
class Provider:
    """The running provider: its issuer URL (discovery under it) and its window."""

    issuer: str
    window: Window

    def set_user(self, sub: str, **claims: Any) -> None:
        """The claims the provider gives for `sub` from now on."""
        answer = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        assert answer.status_code == 204, answer.text

    def sign_in(self, authorization_url: str, sub: str) -> str:
        """Sign in at the provider as `sub`, as a person would at its page: the URL it
        sends the browser back to (the service's callback)."""
        answer = httpx.post(authorization_url, data={"sub": sub})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def deny(self, authorization_url: str) -> str:
        """Refuse at the provider's page: the callback URL, carrying the error."""
        answer = httpx.post(authorization_url, data={"action": "deny"})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def token_for(self, client_id: str, sub: str, nonce: str) -> TokenAnswer:
        """A real token answer of the provider's for another client, `client_id`:
        the authorization and code exchange done as that client would."""
        redirect_uri = "http://localhost/elsewhere"
        authorization = httpx.Request(
            "GET",
            f"{self.issuer}/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid email profile",
                "state": "other-client",
                "nonce": nonce,
            },
        )
        callback = httpx.URL(self.sign_in(str(authorization.url), sub))
        answer = httpx.post(
            f"{self.issuer}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": callback.params["code"],
                "redirect_uri": redirect_uri,
            },
            auth=(client_id, "another secret"),
        )
        assert answer.status_code == 200, answer.text
        token: TokenAnswer = answer.json()
        return token


def s256(code_verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@contextmanager
def running_provider(access_token_max_age: timedelta = timedelta(hours=1)) -> Iterator[Provider]:
    """The provider on a free port of localhost, requiring a nonce, until the end; its
    tokens expire `access_token_max_age` after they are issued."""
    window = Window(
        oidc_provider_mock.app(require_nonce=True, access_token_max_age=access_token_max_age)
    )
    server = werkzeug.serving.make_server("localhost", 0, window, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield Provider(f"http://localhost:{server.server_port}", window)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
