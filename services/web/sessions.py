"""Sessions for each request: the dependency a page takes to need a signed-in
visitor, and starting and ending sessions.

A page route takes `SignedIn` (the visitor's `services.auth.Principal`, checked
with services.access exactly as a bearer token's is) and is answered, for a
visitor who is not signed in, with a redirect to `/sign-in?next=<the page>`.

Sign-in methods (the emailed link here, OpenID Connect in services.web.oidc) end
by calling `start_session_for_email` once they have verified an email.
"""

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from services.auth import Principal
from services.web.csrf import FORM_COOKIE
from services.web.identity import Identity, identity_for_email
from services.web.pages import render
from services.web.session_store import cookie_is_secure
from services.web.visitor import SESSION_COOKIE, Visitor, runtime_of, visitor_of

SIGN_IN_PATH = "/sign-in"
# Far beyond any page's path and query; a longer `next` is dropped.
MAX_NEXT_LENGTH = 2000


class SignInRequired(Exception):
    """The page needs a signed-in visitor; `next_path` is where to return after."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(next_path: str | None) -> str:
    """Where to go after signing in: `next_path` if it is a path of this service
    (`/…`, not `//host` or `/\\host`, no scheme or host, no control characters),
    else `/`. So a link can never send someone to another site."""
    if not next_path or len(next_path) > MAX_NEXT_LENGTH:
        return "/"
    if not next_path.startswith("/") or next_path.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in next_path):
        return "/"
    parts = urlsplit(next_path)
    if parts.scheme or parts.netloc:
        return "/"
    return next_path


def sign_in_page_url(next_path: str) -> str:
    """The sign-in page, returning to `next_path` after."""
    if next_path == "/":
        return SIGN_IN_PATH
    return f"{SIGN_IN_PATH}?{urlencode({'next': next_path})}"


async def signed_in_visitor(request: Request) -> Visitor:
    """The signed-in visitor; SignInRequired (a redirect to sign in) otherwise."""
    visitor = await visitor_of(request)
    if visitor is None:
        query = f"?{request.url.query}" if request.url.query else ""
        raise SignInRequired(request.url.path + query)
    return visitor


async def signed_in(visitor: Annotated[Visitor, Depends(signed_in_visitor)]) -> Principal:
    """The principal of the signed-in visitor; SignInRequired otherwise."""
    return visitor.principal


SignedInVisitor = Annotated[Visitor, Depends(signed_in_visitor)]
SignedIn = Annotated[Principal, Depends(signed_in)]


async def start_session_for_email(request: Request, email: str, next_path: str | None) -> Response:
    """Sign in the owner of a verified email: the active staff account with it, else
    the mentor or mentee whose profile has it (services.web.identity). Answers with a
    redirect (303) to `next_path` if it is a path of this service (`safe_next`), else
    to `/`, setting the session cookie; the session the request came with, if any,
    is ended. If no active account or profile has the email, answers 403 with the
    page that says so, and starts nothing.

    The caller must have verified that the visitor owns `email` (an emailed link
    used, an ID token's verified `email` claim)."""
    runtime = runtime_of(request)
    identity = await run_in_threadpool(
        identity_for_email, email, runtime.staff, runtime.people_by_email
    )
    if identity is None:
        return await cannot_sign_in(request)
    return await start_session(request, identity, next_path)


async def start_session(request: Request, identity: Identity, next_path: str | None) -> Response:
    """A new session for the identity: the redirect to `safe_next(next_path)` with its
    cookie set."""
    runtime = runtime_of(request)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await run_in_threadpool(runtime.sessions.end, previous)
    secret = await run_in_threadpool(runtime.sessions.start, identity)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(runtime.settings.public_url),
        path="/",
    )
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


async def end_session(request: Request) -> None:
    """End the request's session on the server: the rest of the request is a
    visitor's who is not signed in."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await run_in_threadpool(runtime_of(request).sessions.end, secret)
    request.state.visitor = None


def forget_session(response: Response) -> None:
    """Have the browser drop its session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/")


async def cannot_sign_in(request: Request) -> Response:
    """The page for an email that no active account or profile has (403)."""
    return await render(request, "cannot_sign_in.html", status_code=403)
