"""The page layout and what every page answer carries: templates rendered with the
service's name, the signed-in principal and the form's CSRF token; a
Content-Security-Policy that lets the pages run their own script and style and
nothing else (no inline script, nothing from another origin); and no caching.

`install` adds the static files, the sign-in pages and their error answers to an
app. Page routes are left out of the OpenAPI document: they are not the API.
"""

from email.utils import parseaddr
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.config import Settings
from services.web.csrf import csrf_token_for, set_form_cookie
from services.web.nav import sections_for
from services.web.visitor import runtime_of, visitor_of

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

templates = Jinja2Templates(directory=TEMPLATES)


def service_name(settings: Settings) -> str:
    """What the service calls itself, in page headers and mail: the display name of
    MENTORING_MAIL_FROM."""
    return parseaddr(settings.mail_from)[0] or "Mentoring"


async def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """A page from `template`, given the service's name (`service_name`), the signed-in
    visitor if any (`visitor`), the header's links for them (`sections`) and the
    CSRF token its forms must carry (`csrf_token`), besides `context`."""
    visitor = await visitor_of(request)
    base = {
        "service_name": service_name(runtime_of(request).settings),
        "visitor": visitor,
        "sections": sections_for(visitor.principal if visitor else None),
        "csrf_token": await csrf_token_for(request),
    }
    response = templates.TemplateResponse(
        request, template, base | (context or {}), status_code=status_code
    )
    answer_as_page(response)
    set_form_cookie(request, response)
    return response


def answer_as_page(response: HTMLResponse) -> None:
    """The headers of every page answer: its own CSP, and kept by no cache."""
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-store"


def mount_static(app: FastAPI) -> None:
    """Serve `STATIC` at /static: the pages' own script and style, and the vendored
    frontend (static/vendor/VENDORED.md)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
