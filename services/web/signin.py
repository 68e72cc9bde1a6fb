"""Signing in by emailed link, signing out, and the signed-in landing page.

`POST /sign-in` answers the same page whatever the email, and as fast: whether the
email has an account is found, and the link sent, after the answer has gone
(a background task), so neither the page nor its timing tells who has one.

Mail scanners fetch links to check them, so opening a link (`GET /sign-in/link`)
spends nothing: it shows a button that posts the token back, and only that post
uses the link and starts the session.
"""

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from services.api.schemas import Email
from services.mail.transport import MailUndelivered, transport_from
from services.runtime import Runtime
from services.web import oidc, pages
from services.web.csrf import CSRF_FIELD, CsrfRefused, check_csrf
from services.web.identity import BOOTSTRAP_ADMIN, Identity, identity_for_email
from services.web.links import LINK_LIFETIME, sign_in_url
from services.web.pages import render
from services.web.sessions import (
    SIGN_IN_PATH,
    SignedInVisitor,
    SignInRequired,
    end_session,
    forget_session,
    safe_next,
    sign_in_page_url,
    start_session,
    start_session_for_email,
)
from services.web.sign_in_mail import sign_in_message
from services.web.visitor import runtime_of

log = logging.getLogger("mentoring.web")

# The API's own rule of what an email is.
EMAIL = TypeAdapter(Email)

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form()]
Token = Annotated[str, Form(alias=CSRF_FIELD)]


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request, visitor: SignedInVisitor) -> Response:
    """Who you are signed in as, in which role, and a way to sign out."""
    runtime = runtime_of(request)
    name = await run_in_threadpool(display_name, runtime, visitor.identity)
    return await render(request, "landing.html", {"name": name})


@router.get(SIGN_IN_PATH, response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    next_path = safe_next(next)
    context = {"next": next_path, "email": "", "sso_url": oidc.offered(request, next_path)}
    return await render(request, "sign_in.html", context)


@router.post(SIGN_IN_PATH, response_class=HTMLResponse)
async def ask_for_link(
    request: Request,
    background: BackgroundTasks,
    csrf_token: Token = "",
    email: FormText = "",
    next: FormText = "/",
) -> Response:
    """Send a link to `email` if it has an account; the same answer either way."""
    await check_csrf(request, csrf_token)
    runtime = runtime_of(request)
    email, next_path = email.strip(), safe_next(next)
    error = email_error(email)
    if error is not None:
        context = {
            "next": next_path,
            "email": email,
            "errors": {"email": error},
            "sso_url": oidc.offered(request, next_path),
        }
        return await render(request, "sign_in.html", context, status_code=422)
    address = request.client.host if request.client else "unknown"
    wait = await run_in_threadpool(runtime.sign_in_requests.retry_after, address, email)
    if wait is not None:
        minutes = max(1, -(-wait // 60))
        error = (
            "You have asked for too many links. "
            f"Wait {minutes} minute{'s' if minutes > 1 else ''} and try again"
        )
        context = {"next": next_path, "email": email, "errors": {"email": error}}
        response = await render(request, "sign_in.html", context, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    await run_in_threadpool(runtime.sign_in_requests.record, address, email)
    background.add_task(send_link_if_known, runtime, email, next_path)
    return await render(request, "check_your_email.html", {"email": email})


@router.get("/sign-in/link", response_class=HTMLResponse)
async def open_link(request: Request, token: str = "") -> Response:
    """The button that uses the link; opening the link spends nothing."""
    runtime = runtime_of(request)
    status = await run_in_threadpool(runtime.sign_in_links.status, token) if token else "unknown"
    if status != "valid":
        return await link_cannot_be_used(request)
    return await render(request, "confirm_sign_in.html", {"token": token})


@router.post("/sign-in/link", response_class=HTMLResponse)
async def use_link(request: Request, csrf_token: Token = "", token: FormText = "") -> Response:
    """Spend the link and start the session it is for."""
    await check_csrf(request, csrf_token)
    runtime = runtime_of(request)
    spent = await run_in_threadpool(runtime.sign_in_links.spend, token) if token else None
    if spent is None:
        return await link_cannot_be_used(request)
    if spent.email is None:
        return await start_session(request, BOOTSTRAP_ADMIN, spent.next_path)
    return await start_session_for_email(request, spent.email, spent.next_path)


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request, csrf_token: Token = "") -> Response:
    """End the session on the server."""
    await check_csrf(request, csrf_token)
    await end_session(request)
    response = await render(request, "signed_out.html")
    forget_session(response)
    return response


def email_error(email: str) -> str | None:
    """What is wrong with an email typed in, in words for the form; None if nothing."""
    if not email:
        return "Enter your email address"
    try:
        EMAIL.validate_python(email)
    except ValidationError:
        return "Enter an email address in the correct format, like name@example.nhs.uk"
    return None


def send_link_if_known(runtime: Runtime, email: str, next_path: str) -> None:
    """Email a new link to `email` if it signs someone in; else nothing. A message
    that cannot be handed over is logged (without the address) and dropped: the
    visitor asks again."""
    if identity_for_email(email, runtime.staff, runtime.people_by_email) is None:
        return
    link = runtime.sign_in_links.issue(email, next_path, LINK_LIFETIME)
    url = sign_in_url(runtime.settings.public_url, link.token)
    try:
        transport_from(runtime.settings).send(
            sign_in_message(runtime.settings, email, url, link.id)
        )
    except MailUndelivered as error:
        log.warning("a sign-in link (%s) could not be sent: %s", link.id, error)


def display_name(runtime: Runtime, identity: Identity) -> str:
    """The signed-in person's name as their account or profile gives it."""
    if identity.kind == "bootstrap" or identity.subject_id is None:
        return "Bootstrap admin"
    if identity.kind == "staff":
        account = runtime.staff.get(identity.subject_id)
        return account.name if account else ""
    get = (
        runtime.mentoring.get_mentor if identity.kind == "mentor" else runtime.mentoring.get_mentee
    )
    return str(get(identity.subject_id).name)


async def link_cannot_be_used(request: Request) -> Response:
    """A link used already, expired or unknown: one page for all (410)."""
    return await render(request, "link_cannot_be_used.html", status_code=410)


async def _sign_in_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)
    return RedirectResponse(sign_in_page_url(safe_next(error.next_path)), status_code=303)


async def _csrf_refused(request: Request, error: Exception) -> Response:
    return await render(request, "form_expired.html", status_code=403)


def install(app: FastAPI) -> None:
    """The sign-in pages, the static files, and the answers to a page that needs a
    session (a redirect to sign in) and to a form posted without its token (403)."""
    pages.mount_static(app)
    app.include_router(router)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
