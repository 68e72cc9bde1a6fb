"""Single sign-on with OpenID Connect (README, "Signing in"), when
MENTORING_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET are set.

`GET /sign-in/oidc` begins an attempt (services.web.oidc_pending: a state, a nonce
and a PKCE code verifier, kept server-side for ten minutes) and sends the visitor
to the provider with the state, the nonce and the verifier's S256 challenge; the
state is also put in a cookie, so that the callback is finished only in the
browser that began it (no one can sign a visitor in to their own account).

`GET /sign-in/oidc/callback` spends the state, exchanges the code with the client
secret and the verifier, verifies the ID token against the issuer's keys
(signature, `iss`, `aud`, `exp`, `nonce`), and signs in the owner of its `email`
if the provider vouches for it (`email_verified`, or Microsoft Entra's `xms_edov`
when that is absent), through services.web.sessions.start_session_for_email.
Anything else is refused with a page offering the emailed link, and one log line
that names the reason and nothing of the person.

The provider's discovery document is fetched once per process; its keys too, and
again when a token is signed with a key not among them (the provider rotated).
"""

import logging
import re
import secrets
from typing import Any, cast
from urllib.parse import urlencode

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool

from services.config import OidcSettings
from services.runtime import Runtime
from services.web.oidc_pending import PENDING_LIFETIME, PendingSignIns
from services.web.pages import render
from services.web.session_store import cookie_is_secure
from services.web.sessions import safe_next, sign_in_page_url, start_session_for_email
from services.web.visitor import runtime_of

log = logging.getLogger("mentoring.web")

START_PATH = "/sign-in/oidc"
CALLBACK_PATH = "/sign-in/oidc/callback"
STATE_COOKIE = "mentoring_oidc_state"
SCOPE = "openid email profile"
# How long the provider has to answer each request of ours, in seconds.
PROVIDER_TIMEOUT = 10.0
# How far the provider's clock may be from ours when `exp` and `iat` are checked.
CLOCK_LEEWAY = 60
# Signature algorithms accepted when discovery names none. Symmetric ones (HS*) and
# "none" are never accepted: a token must be signed with one of the issuer's keys.
DEFAULT_ALGORITHMS = ("RS256",)
# An OAuth error code is logged only if it looks like one (RFC 6749: these characters).
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")


class SignInRefused(Exception):
    """This attempt cannot sign anyone in: `reason` (for the log, naming no one)
    and the status of the page that says so."""

    def __init__(self, reason: str, status_code: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


def start_url(next_path: str) -> str:
    """Where single sign-on begins, returning to `next_path` after."""
    if next_path == "/":
        return START_PATH
    return f"{START_PATH}?{urlencode({'next': next_path})}"


class Provider:
    """The OpenID Connect provider of `settings`: its endpoints (discovery) and its
    signing keys, each fetched once and kept for the process."""

    def __init__(self, settings: OidcSettings, public_url: str) -> None:
        self.settings = settings
        self.redirect_uri = f"{public_url}{CALLBACK_PATH}"
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, naming the configured issuer. Raises SignInRefused
        (502) if it cannot be fetched or names another issuer."""
        if self._metadata is None:
            url = f"{self.settings.issuer}/.well-known/openid-configuration"
            metadata = await _fetch_json(url, "discovery")
            if metadata.get("issuer") != self.settings.issuer:
                raise SignInRefused("the discovery document names another issuer", 502)
            for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(metadata.get(endpoint), str):
                    raise SignInRefused(f"the discovery document has no {endpoint}", 502)
            self._metadata = metadata
        return self._metadata

    async def keys(self, refresh: bool = False) -> KeySet:
        """The issuer's public keys (its JWKS), fetched again if `refresh`."""
        if self._keys is None or refresh:
            metadata = await self.metadata()
            try:
                self._keys = KeySet.import_key_set(
                    cast(Any, await _fetch_json(metadata["jwks_uri"], "keys"))
                )
            except (JoseError, ValueError, TypeError):
                raise SignInRefused("the provider's keys cannot be read", 502) from None
        return self._keys

    def client(self) -> AsyncOAuth2Client:
        """A client of the provider as this service (client id and secret), with PKCE."""
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=SCOPE,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=PROVIDER_TIMEOUT,
        )

    async def authorization_url(self, state: str, nonce: str, code_verifier: str) -> str:
        """Where the visitor signs in at the provider, for this attempt."""
        metadata = await self.metadata()
        async with self.client() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=code_verifier,
                nonce=nonce,
            )
        return str(url)

    async def exchange(self, code: str, code_verifier: str) -> dict[str, Any]:
        """The provider's token answer for the code. Raises SignInRefused if the
        provider refuses it or cannot be reached."""
        metadata = await self.metadata()
        try:
            async with self.client() as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
        except OAuthError as error:
            reason = f"the provider refused the code ({_error_code(error.error)})"
            raise SignInRefused(reason) from None
        except (httpx.HTTPError, ValueError):
            raise SignInRefused("the provider's token endpoint did not answer", 502) from None
        return dict(token)

    async def verified_claims(self, id_token: str, nonce: str, access_token: str) -> CodeIDToken:
        """The claims of an ID token signed by one of the issuer's keys, issued by
        it to this client for this attempt's nonce and not expired. Raises
        SignInRefused otherwise."""
        metadata = await self.metadata()
        algorithms = [
            alg
            for alg in metadata.get("id_token_signing_alg_values_supported", DEFAULT_ALGORITHMS)
            if isinstance(alg, str) and alg != "none" and not alg.startswith("HS")
        ]
        try:
            try:
                token = jwt.decode(id_token, await self.keys(), algorithms=algorithms)
            except InvalidKeyIdError:
                token = jwt.decode(id_token, await self.keys(refresh=True), algorithms=algorithms)
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": self.settings.issuer},
                    "aud": {"essential": True, "value": self.settings.client_id},
                },
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": access_token,
                },
            )
            claims.validate(leeway=CLOCK_LEEWAY)
        except ClaimError as error:
            reason = f"{error.error} {_error_code(error.claim)}"
            raise SignInRefused(f"the ID token failed verification ({reason})") from None
        except JoseError as error:
            raise SignInRefused(f"the ID token failed verification ({error.error})") from None
        except ValueError:
            raise SignInRefused("the ID token failed verification (malformed)") from None
        return claims


def verified_email(claims: CodeIDToken) -> str | None:
    """The token's email if the provider vouches for it: `email_verified` true, or,
    when that claim is absent, Microsoft Entra's `xms_edov` (email domain owner
    verified) true. None otherwise."""
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        return None
    if "email_verified" in claims:
        vouched = claims["email_verified"] in (True, "true")
    else:
        vouched = claims.get("xms_edov") in (True, "true", 1, "1")
    return email if vouched else None


async def _fetch_json(url: str, what: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=PROVIDER_TIMEOUT) as client:
            answer = await client.get(url)
            answer.raise_for_status()
            document = answer.json()
    except (httpx.HTTPError, ValueError):
        raise SignInRefused(f"the provider's {what} could not be fetched", 502) from None
    if not isinstance(document, dict):
        raise SignInRefused(f"the provider's {what} is not a JSON object", 502)
    return document


def _error_code(code: object) -> str:
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else "unnamed error"


def oidc_router(settings: OidcSettings, public_url: str, pending: PendingSignIns) -> APIRouter:
    """The two routes of single sign-on through the provider of `settings`, for the
    service reached at `public_url`, keeping attempts in `pending`."""
    provider = Provider(settings, public_url)
    secure = cookie_is_secure(public_url)
    router = APIRouter(include_in_schema=False)

    @router.get(START_PATH, response_class=HTMLResponse)
    async def begin_sign_in(request: Request, next: str | None = None) -> Response:
        """Send the visitor to the provider, for a new attempt."""
        next_path = safe_next(next)
        try:
            await provider.metadata()
        except SignInRefused as refusal:
            return await sign_in_failed(request, refusal, next_path)
        attempt = await run_in_threadpool(pending.begin, next_path)
        url = await provider.authorization_url(attempt.state, attempt.nonce, attempt.code_verifier)
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            STATE_COOKIE,
            attempt.state,
            max_age=int(PENDING_LIFETIME.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=secure,
            path=START_PATH,
        )
        return response

    @router.get(CALLBACK_PATH, response_class=HTMLResponse)
    async def finish_sign_in(
        request: Request,
        state: str = "",
        code: str = "",
        error: str = "",
    ) -> Response:
        """Finish the attempt the provider sends the visitor back for."""
        try:
            email, next_path = await finish(request, state, code, error)
        except SignInRefused as refusal:
            return await sign_in_failed(request, refusal, "/")
        response = await start_session_for_email(request, email, next_path)
        response.delete_cookie(STATE_COOKIE, path=START_PATH)
        return response

    async def finish(request: Request, state: str, code: str, error: str) -> tuple[str, str]:
        """The verified email of the callback's attempt and where it leads. Raises
        SignInRefused."""
        cookie = request.cookies.get(STATE_COOKIE, "")
        if not state or not secrets.compare_digest(state.encode(), cookie.encode()):
            raise SignInRefused("the state is not this browser's", 400)
        attempt = await run_in_threadpool(pending.finish, state)
        if attempt is None:
            raise SignInRefused("the state is unknown, used already or expired", 400)
        if error:
            raise SignInRefused(f"the provider answered {_error_code(error)}")
        if not code:
            raise SignInRefused("the provider sent no code", 400)
        token = await provider.exchange(code, attempt.code_verifier)
        id_token, access_token = token.get("id_token"), token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise SignInRefused("the provider's answer has no ID token")
        claims = await provider.verified_claims(id_token, attempt.nonce, access_token)
        email = verified_email(claims)
        if email is None:
            raise SignInRefused("the ID token has no verified email")
        return email, attempt.next_path

    return router


async def sign_in_failed(request: Request, refusal: SignInRefused, next_path: str) -> Response:
    """The page for an attempt refused, offering the emailed link; one log line."""
    log.warning("single sign-on refused: %s", refusal.reason)
    # The state cookie is left: it may be another attempt's, and lapses with it.
    return await render(
        request,
        "oidc/sign_in_failed.html",
        {"sign_in_url": sign_in_page_url(next_path)},
        status_code=refusal.status_code,
    )


def offered(request: Request, next_path: str) -> str | None:
    """Where the sign-in page's single sign-on link leads (`start_url`), or None
    when single sign-on is not configured."""
    return start_url(next_path) if runtime_of(request).settings.oidc is not None else None


def install_oidc(app: FastAPI, runtime: Runtime) -> None:
    """Add single sign-on to the app when the runtime's settings configure it."""
    if runtime.settings.oidc is not None and runtime.oidc_sign_ins is not None:
        app.include_router(
            oidc_router(runtime.settings.oidc, runtime.settings.public_url, runtime.oidc_sign_ins)
        )
