"""The people pages of a scheme, for its staff: the mentor and mentee lists with
search and filters, adding and changing a person, and the bulk import from CSV
(upload, a preview of every error, then confirm).

Each page takes the signed-in principal and applies the API's own checks: the role
may register people (Action.REGISTER_PEOPLE: admins, coordinators), and a
coordinator works on their own schemes only (another scheme's pages are not found).
Forms are read into the API's own request bodies (services.people_import.read_fields)
and passed to the same application methods; a form with errors is shown again (422)
with the error summary and each error by its field.
"""

import base64
import binascii
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import DomainError
from domain.people import Mentee
from services import read_side
from services.access import (
    Action,
    Forbidden,
    allowed,
    check_allowed,
    check_can_register,
    check_scheme,
)
from services.api.schemas import MenteeIn, MenteePatch, MentorIn, MentorPatch
from services.auth import Principal
from services.errors import NotFound
from services.people_import import (
    ImportResult,
    Kind,
    columns,
    field_named,
    import_people,
    people_of,
    read_fields,
    required_columns,
)
from services.views import mentee_view, mentor_view
from services.web.csrf import CSRF_FIELD, check_csrf
from services.web.pages import render
from services.web.sessions import SignedIn
from services.web.visitor import runtime_of

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Form(alias=CSRF_FIELD)]
FormText = Annotated[str, Form()]
SINGULAR: dict[Kind, str] = {"mentors": "mentor", "mentees": "mentee"}
# The fields of each form, in the order they are shown (and their errors listed).
MENTOR_FORM = columns("mentors")
MENTEE_FORM = columns("mentees")


class PageRefused(Exception):
    """The visitor may not open this page (403), or it is not there for them (404)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@contextmanager
def refused_as_page() -> Iterator[None]:
    """The API's refusals (services.access.Forbidden, services.errors.NotFound) as a
    page that says so, not a problem document."""
    try:
        yield
    except Forbidden:
        raise PageRefused(403) from None
    except NotFound:
        raise PageRefused(404) from None


def scheme_of_staff(request: Request, principal: Principal, scheme_id: UUID) -> dict[str, Any]:
    """The scheme (its id, name and cohorts) whose people the principal may manage.
    Raises Forbidden for a role that may not, NotFound for a coordinator's other
    scheme or no such scheme."""
    check_allowed(principal, Action.REGISTER_PEOPLE)
    check_scheme(principal, scheme_id, "scheme", scheme_id)
    scheme = runtime_of(request).mentoring.get_scheme(scheme_id)
    return {"id": scheme_id, "name": scheme.name, "cohorts": [c["name"] for c in scheme.cohorts]}


def _matches(person: dict[str, Any], search: str) -> bool:
    words = search.casefold().split()
    text = f"{person.get('name', '')} {person.get('email', '')}".casefold()
    return all(word in text for word in words)


def _options(values: set[str]) -> list[tuple[str, str]]:
    """A select's options (value, text), in alphabetical order."""
    return [(value, value) for value in sorted(values, key=str.casefold)]


def _choice(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


# Lists -----------------------------------------------------------------------


@router.get("/schemes/{scheme_id}/mentors", response_class=HTMLResponse)
async def mentor_list(
    request: Request,
    scheme_id: UUID,
    principal: SignedIn,
    q: str = "",
    specialty: str = "",
    available: str = "",
    room: str = "",
) -> Response:
    """The scheme's mentors from the directory (the read side), searched by name or
    email and filtered by specialty, availability and room left."""
    runtime = runtime_of(request)
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
        everyone = await run_in_threadpool(
            read_side.mentor_directory, runtime.pool, principal, scheme_id, None, None
        )
        shown = await run_in_threadpool(
            read_side.mentor_directory,
            runtime.pool,
            principal,
            scheme_id,
            specialty or None,
            _choice(room),
        )
    wanted = _choice(available)
    shown = [m for m in shown if _matches(m, q) and (wanted is None or m["available"] == wanted)]
    context = {
        "scheme": scheme,
        "people": shown,
        "total": len(everyone),
        "specialties": _options({m["specialty"] for m in everyone}),
        "query": {"q": q, "specialty": specialty, "available": available, "room": room},
    }
    return await render(request, "people/mentors.html", context)


def _mentees_of(request: Request, scheme_id: UUID) -> list[dict[str, Any]]:
    mentoring = runtime_of(request).mentoring
    return [
        mentee_view(person, with_demographics=False)
        for person in people_of(mentoring, "mentees", scheme_id)
        if isinstance(person, Mentee)
    ]


@router.get("/schemes/{scheme_id}/mentees", response_class=HTMLResponse)
async def mentee_list(
    request: Request,
    scheme_id: UUID,
    principal: SignedIn,
    q: str = "",
    specialty: str = "",
    cohort: str = "",
) -> Response:
    """The scheme's mentees, searched by name or email and filtered by specialty and
    cohort."""
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
        everyone = await run_in_threadpool(_mentees_of, request, scheme_id)
    shown = [
        m
        for m in everyone
        if _matches(m, q)
        and (not specialty or m["specialty"].casefold() == specialty.casefold())
        and (not cohort or m["cohort"] == cohort)
    ]
    context = {
        "scheme": scheme,
        "people": shown,
        "total": len(everyone),
        "specialties": _options({m["specialty"] for m in everyone}),
        "cohorts": _options({m["cohort"] for m in everyone} | set(scheme["cohorts"])),
        "query": {"q": q, "specialty": specialty, "cohort": cohort},
    }
    return await render(request, "people/mentees.html", context)


# Adding a person ---------------------------------------------------------------


def _register(
    request: Request, principal: Principal, kind: Kind, scheme_id: UUID, fields: dict[str, str]
) -> tuple[UUID | None, dict[str, str]]:
    """Register the person the form describes as the API would; their id, or the
    form's errors by field."""
    check_can_register(principal, scheme_id)
    mentoring = runtime_of(request).mentoring
    model = MentorIn if kind == "mentors" else MenteeIn
    body, errors = read_fields(model, fields, scheme_id=scheme_id)
    if body is None:
        return None, _by_field(errors, fields)
    profile = body.model_dump()
    try:
        if kind == "mentors":
            return mentoring.register_mentor(profile, principal.actor).aggregate.id, {}
        return mentoring.register_mentee(profile, principal.actor).aggregate.id, {}
    except DomainError as refused:
        field = field_named(refused, fields) or "name"
        return None, {field: str(refused)}


def _by_field(errors: list[tuple[str | None, str]], fields: dict[str, str]) -> dict[str, str]:
    """The first error of each field, in the form's order (the summary's)."""
    found: dict[str, str] = {}
    for field, message in errors:
        found.setdefault(field or next(iter(fields)), message)
    order = list(fields)
    return dict(
        sorted(found.items(), key=lambda item: order.index(item[0]) if item[0] in order else 0)
    )


def _form_fields(kind: Kind, form: dict[str, Any]) -> dict[str, str]:
    names = MENTOR_FORM if kind == "mentors" else MENTEE_FORM
    return {name: str(form.get(name, "")) for name in names}


async def _new_person_page(
    request: Request,
    kind: Kind,
    scheme: dict[str, Any],
    fields: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    context = {"scheme": scheme, "kind": kind, "fields": fields, "errors": errors or {}}
    return await render(
        request, f"people/new_{SINGULAR[kind]}.html", context, 422 if errors else 200
    )


@router.get("/schemes/{scheme_id}/{kind}/new", response_class=HTMLResponse)
async def new_person(
    request: Request, scheme_id: UUID, kind: Kind, principal: SignedIn
) -> Response:
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
    fields = _form_fields(kind, {})
    if kind == "mentors":
        fields["capacity"] = "1"
    return await _new_person_page(request, kind, scheme, fields)


@router.post("/schemes/{scheme_id}/{kind}/new", response_class=HTMLResponse)
async def add_person(
    request: Request, scheme_id: UUID, kind: Kind, principal: SignedIn
) -> Response:
    form = await request.form()
    await check_csrf(request, str(form.get(CSRF_FIELD, "")))
    fields = _form_fields(kind, dict(form))
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
        person_id, errors = await run_in_threadpool(
            _register, request, principal, kind, scheme_id, fields
        )
    if errors:
        return await _new_person_page(request, kind, scheme, fields, errors)
    return RedirectResponse(f"/schemes/{scheme_id}/{kind}/{person_id}?added=1", status_code=303)


# A person's page -------------------------------------------------------------------


def _mentor(request: Request, scheme_id: UUID, mentor_id: UUID) -> dict[str, Any]:
    mentoring = runtime_of(request).mentoring
    mentor = mentoring.get_mentor(mentor_id, in_scheme=scheme_id)
    return mentor_view(mentor, True, mentoring.matchmaking.places_held()[mentor_id])


def _mentor_fields(mentor: dict[str, Any]) -> dict[str, str]:
    return {
        "capacity": str(mentor["capacity"]),
        "available": "yes" if mentor["available"] else "no",
        "trained_on": mentor.get("trained_on") or "",
    }


async def _mentor_page(
    request: Request,
    scheme: dict[str, Any],
    mentor: dict[str, Any],
    fields: dict[str, str],
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    context = {
        "scheme": scheme,
        "person": mentor,
        "fields": fields,
        "errors": errors or {},
        "notice": notice,
    }
    return await render(request, "people/mentor.html", context, 422 if errors else 200)


NOTICES = {"added": "The person was added.", "saved": "Your changes were saved."}


def _notice(request: Request) -> str:
    return next((text for key, text in NOTICES.items() if key in request.query_params), "")


@router.get("/schemes/{scheme_id}/mentors/{mentor_id}", response_class=HTMLResponse)
async def mentor_page(
    request: Request, scheme_id: UUID, mentor_id: UUID, principal: SignedIn
) -> Response:
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
        mentor = await run_in_threadpool(_mentor, request, scheme_id, mentor_id)
    return await _mentor_page(
        request, scheme, mentor, _mentor_fields(mentor), notice=_notice(request)
    )


def _change_mentor(
    request: Request, principal: Principal, mentor_id: UUID, fields: dict[str, str]
) -> dict[str, str]:
    """Change the mentor as `PATCH /v1/mentors/{id}` would; the form's errors."""
    body, errors = read_fields(MentorPatch, fields)
    if body is None:
        return _by_field(errors, fields)
    changes = body.model_dump(exclude_none=True)
    if "trained_on" in changes and not allowed(principal, Action.RECORD_TRAINING):
        raise Forbidden("training is recorded by the scheme's staff")
    try:
        runtime_of(request).mentoring.update_mentor(mentor_id, principal.actor, **changes)
    except DomainError as refused:
        return {field_named(refused, fields) or "capacity": str(refused)}
    return {}


@router.post("/schemes/{scheme_id}/mentors/{mentor_id}", response_class=HTMLResponse)
async def change_mentor(
    request: Request,
    scheme_id: UUID,
    mentor_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    capacity: FormText = "",
    available: FormText = "",
    trained_on: FormText = "",
) -> Response:
    await check_csrf(request, csrf_token)
    fields = {"capacity": capacity, "available": available, "trained_on": trained_on}
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
        check_allowed(principal, Action.UPDATE_MENTOR)
        await run_in_threadpool(_mentor, request, scheme_id, mentor_id)
        errors = await run_in_threadpool(_change_mentor, request, principal, mentor_id, fields)
        if errors:
            mentor = await run_in_threadpool(_mentor, request, scheme_id, mentor_id)
            return await _mentor_page(request, scheme, mentor, fields, errors)
    return RedirectResponse(f"/schemes/{scheme_id}/mentors/{mentor_id}?saved=1", status_code=303)


def _mentee(request: Request, scheme_id: UUID, mentee_id: UUID) -> dict[str, Any]:
    mentee = runtime_of(request).mentoring.get_mentee(mentee_id, in_scheme=scheme_id)
    return mentee_view(mentee, with_demographics=False)


@router.get("/schemes/{scheme_id}/mentees/{mentee_id}", response_class=HTMLResponse)
async def mentee_page(
    request: Request, scheme_id: UUID, mentee_id: UUID, principal: SignedIn
) -> Response:
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
        mentee = await run_in_threadpool(_mentee, request, scheme_id, mentee_id)
    context = {
        "scheme": scheme,
        "person": mentee,
        "fields": {"reminders": "yes" if mentee["reminders"] else "no"},
        "errors": {},
        "notice": _notice(request),
    }
    return await render(request, "people/mentee.html", context)


@router.post("/schemes/{scheme_id}/mentees/{mentee_id}", response_class=HTMLResponse)
async def change_mentee(
    request: Request,
    scheme_id: UUID,
    mentee_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    reminders: FormText = "",
) -> Response:
    """Turn the mentee's reminders on or off, as `PATCH /v1/mentees/{id}` does."""
    await check_csrf(request, csrf_token)
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
        check_allowed(principal, Action.SET_REMINDERS)
        mentee = await run_in_threadpool(_mentee, request, scheme_id, mentee_id)
        body, _ = read_fields(MenteePatch, {"reminders": reminders})
        if body is None:
            context = {
                "scheme": scheme,
                "person": mentee,
                "fields": {"reminders": reminders},
                "errors": {"reminders": "Choose whether the mentee is sent reminders"},
                "notice": "",
            }
            return await render(request, "people/mentee.html", context, 422)
        mentoring = runtime_of(request).mentoring
        await run_in_threadpool(
            partial(mentoring.update_mentee, reminders=body.reminders),
            mentee_id,
            principal.actor,
        )
    return RedirectResponse(f"/schemes/{scheme_id}/mentees/{mentee_id}?saved=1", status_code=303)


# Import ------------------------------------------------------------------------


async def _import_page(
    request: Request,
    scheme: dict[str, Any],
    kind: str,
    errors: dict[str, str] | None = None,
    result: ImportResult | None = None,
    upload: bytes = b"",
    done: bool = False,
) -> Response:
    context = {
        "scheme": scheme,
        "kind": kind,
        "errors": errors or {},
        "result": result,
        "upload": base64.b64encode(upload).decode(),
        "done": done,
        "columns": {k: columns(k) for k in ("mentors", "mentees")},
        "required": {k: required_columns(k) for k in ("mentors", "mentees")},
    }
    failed = bool(errors) or bool(result and result.errors)
    return await render(request, "people/import.html", context, 422 if failed else 200)


@router.get("/schemes/{scheme_id}/import", response_class=HTMLResponse)
async def import_form(
    request: Request, scheme_id: UUID, principal: SignedIn, kind: str = ""
) -> Response:
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
    return await _import_page(request, scheme, kind if kind in SINGULAR else "")


@router.post("/schemes/{scheme_id}/import", response_class=HTMLResponse)
async def import_file(
    request: Request,
    scheme_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    kind: FormText = "",
    file: UploadFile | None = None,
    upload: FormText = "",
    confirm: FormText = "",
) -> Response:
    """An uploaded file is previewed (a dry run); a previewed file, carried back in
    the confirm form, is checked again and imported, all or nothing."""
    await check_csrf(request, csrf_token)
    with refused_as_page():
        scheme = await run_in_threadpool(scheme_of_staff, request, principal, scheme_id)
        check_can_register(principal, scheme_id)
    errors: dict[str, str] = {}
    if kind not in SINGULAR:
        errors["kind"] = "Choose whether the file lists mentors or mentees"
    data = await file.read() if file is not None and file.filename else b""
    if not data and confirm and upload:
        try:
            data = base64.b64decode(upload, validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not data:
        errors["file"] = "Choose a CSV file to upload"
    if errors:
        return await _import_page(request, scheme, kind, errors)
    valid_kind: Kind = "mentors" if kind == "mentors" else "mentees"
    runtime = runtime_of(request)
    dry_run = not (confirm and upload)
    with refused_as_page():
        result = await run_in_threadpool(
            import_people,
            runtime.mentoring,
            valid_kind,
            scheme_id,
            data,
            principal.actor,
            dry_run,
            runtime.pool,
        )
    return await _import_page(
        request, scheme, kind, result=result, upload=data, done=not dry_run and not result.errors
    )


async def _page_refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, PageRefused)
    return await render(request, "people/refused.html", {"status": error.status}, error.status)


def install(app: FastAPI) -> None:
    """The people pages, and the page that says one of them is not for the visitor."""
    app.include_router(router)
    app.add_exception_handler(PageRefused, _page_refused)
