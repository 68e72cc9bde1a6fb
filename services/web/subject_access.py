"""Subject access pages: a mentor or mentee reads everything held about them at
`/my/data`, an admin anyone's at `/people/{id}/data`; each with the same export as
JSON to download (`.../data.json`). The export, the access rule and the access
log entry are services.subject_access's, as for the API."""

import json
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from services import subject_access
from services.access import Forbidden
from services.auth import Principal
from services.errors import NotFound
from services.web.pages import render
from services.web.sessions import SignedIn
from services.web.visitor import runtime_of

router = APIRouter(include_in_schema=False)


@router.get("/my/data", response_class=HTMLResponse)
async def my_data(request: Request, principal: SignedIn) -> Response:
    """The signed-in mentor's or mentee's own data."""
    return await _page(request, principal, principal.subject_id, "/my/data.json")


@router.get("/my/data.json")
async def my_data_as_json(request: Request, principal: SignedIn) -> Response:
    return await _download(request, principal, principal.subject_id)


@router.get("/people/{person_id}/data", response_class=HTMLResponse)
async def person_data(request: Request, principal: SignedIn, person_id: UUID) -> Response:
    """A person's data, for an admin (or the person themselves)."""
    return await _page(request, principal, person_id, f"/people/{person_id}/data.json")


@router.get("/people/{person_id}/data.json")
async def person_data_as_json(request: Request, principal: SignedIn, person_id: UUID) -> Response:
    return await _download(request, principal, person_id)


async def _export(
    request: Request, principal: Principal, person_id: UUID | None
) -> dict[str, Any] | Response:
    """The export; else the page refusing it: 403 for a role that may export no one,
    404 for anyone else's (as the API answers) or no one's."""
    runtime = runtime_of(request)
    try:
        if person_id is None:
            raise NotFound("person", "none")
        export: dict[str, Any] = await run_in_threadpool(
            subject_access.export,
            runtime.mentoring,
            runtime.pool,
            principal,
            person_id,
            request.url.path,
        )
    except Forbidden:
        return await render(request, "subject_access/not_allowed.html", status_code=403)
    except NotFound:
        return await render(request, "subject_access/not_found.html", status_code=404)
    return export


async def _page(
    request: Request, principal: Principal, person_id: UUID | None, download: str
) -> Response:
    export = await _export(request, principal, person_id)
    if isinstance(export, Response):
        return export
    own = principal.subject_id == person_id
    context = {"export": export, "download": download, "own": own}
    return await render(request, "subject_access/data.html", context)


async def _download(request: Request, principal: Principal, person_id: UUID | None) -> Response:
    export = await _export(request, principal, person_id)
    if isinstance(export, Response):
        return export
    filename = f"mentoring-data-{export['person']['id']}.json"
    return Response(
        json.dumps(export, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
