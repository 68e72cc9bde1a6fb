"""CSRF protection of every form the pages post.

Each form carries `csrf_token` in a hidden field. From a session, the token is the
session's own (derived from its secret, services.web.session_store.csrf_token);
before sign-in, it is derived the same way from a random secret in a cookie of its
own, so that no other site can post the sign-in forms either (the cookies are
`SameSite=Lax`, and another site can read neither). A post whose token is missing or
wrong is refused with 403 before anything is changed.
"""

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from services.web.session_store import cookie_is_secure, csrf_token
from services.web.visitor import runtime_of, visitor_of

FORM_COOKIE = "mentoring_form"
CSRF_FIELD = "csrf_token"


class CsrfRefused(Exception):
    """A form was posted without the token of the session (or visitor) it came from."""


async def csrf_token_for(request: Request) -> str:
    """The token the forms of this request's page must carry."""
    visitor = await visitor_of(request)
    if visitor is not None:
        return visitor.csrf_token
    secret = request.cookies.get(FORM_COOKIE)
    if not secret:
        secret = getattr(request.state, "new_form_secret", None) or secrets.token_urlsafe(32)
        request.state.new_form_secret = secret
    return csrf_token(secret)


def set_form_cookie(request: Request, response: Response) -> None:
    """Give the visitor the form cookie, if the page just made one."""
    secret = getattr(request.state, "new_form_secret", None)
    if secret:
        response.set_cookie(
            FORM_COOKIE,
            secret,
            httponly=True,
            samesite="lax",
            secure=cookie_is_secure(runtime_of(request).settings.public_url),
            path="/",
        )


async def check_csrf(request: Request, submitted: str | None) -> None:
    """Raises CsrfRefused unless `submitted` is this request's token."""
    visitor = await visitor_of(request)
    if visitor is not None:
        expected = visitor.csrf_token
    else:
        secret = request.cookies.get(FORM_COOKIE)
        if not secret:
            raise CsrfRefused()
        expected = csrf_token(secret)
    if not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise CsrfRefused()
