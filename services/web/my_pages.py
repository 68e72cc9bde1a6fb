"""Mentors' and mentees' own pages (/my): their profile, where their requests stand,
their invitations, their relationships and their appraisal record.

Every action is a plain form post carrying the CSRF token, and calls the same
application method under the same access checks as the API route for it
(services.api.routes.relationships and people, services.access,
services.choosing); a page holds no rule of its own. A record that is not the
caller's is answered as the API answers it: 404, or 403 for a role that may never
act so. A form the API would refuse comes back with its errors (422), and a
command the domain refuses with the reason (409); nothing is half done.
"""

from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from domain.errors import DomainError, InvalidValue, NotFound
from domain.people import Mentor
from domain.vocabulary import MatchingModel, State
from services import read_side
from services.access import Action, Forbidden, check_allowed
from services.auth import Principal
from services.choosing import candidates_for, check_may_invite
from services.errors import Conflict
from services.web import my_views
from services.web.csrf import check_csrf
from services.web.my_forms import (
    Errors,
    FormRefused,
    agreement_body,
    answer_body,
    availability_body,
    meeting_body,
    objectives_body,
    pause_body,
    yes_no,
)
from services.web.pages import render
from services.web.sessions import SignedIn
from services.web.visitor import runtime_of

PEOPLE = frozenset({"mentor", "mentee"})


class OwnPageRoute(APIRoute):
    """A route of these pages: a record that is not the caller's, or an action their
    role may never take, is answered with a page (404, 403) rather than the API's
    problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except NotFound:
                return await render(request, "my/refused.html", {"missing": True}, 404)
            except Forbidden:
                return await render(request, "my/refused.html", {"missing": False}, 403)

        return answer


router = APIRouter(prefix="/my", include_in_schema=False, route_class=OwnPageRoute)


def check_person(principal: Principal, role: str | None = None) -> None:
    """Forbidden unless the caller is a mentor or mentee (`role`, if given)."""
    if principal.role not in PEOPLE or (role is not None and principal.role != role):
        raise Forbidden(f"these pages are for {role or 'mentors and mentees'}")


async def posted(request: Request) -> dict[str, str]:
    """The form's text fields, once its CSRF token is checked (CsrfRefused: 403)."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    await check_csrf(request, values.get("csrf_token"))
    return values


def see_other(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


async def attempt(command: Callable[[], Any], field: str) -> tuple[Errors, int]:
    """Run an application command; the errors to show and the status, if refused.
    A refusal by the domain is 409 (422 for a value it cannot accept), shown by
    `field`."""
    try:
        await run_in_threadpool(command)
    except InvalidValue as error:
        return {field: f"{str(error)[:1].upper()}{str(error)[1:]}"}, 422
    except (DomainError, Conflict) as error:
        return {field: f"{str(error)[:1].upper()}{str(error)[1:]}"}, 409
    return {}, 200


# Home ---------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def home(request: Request, principal: SignedIn) -> Response:
    """Profile, where requests stand, relationships now and before, invitations."""
    check_person(principal)
    runtime = runtime_of(request)
    me = await run_in_threadpool(my_views.person, runtime.mentoring, principal)
    pairs = await run_in_threadpool(my_views.own_pairs, runtime, principal)
    scheme = await run_in_threadpool(runtime.mentoring.get_scheme, me.scheme_id)
    context = {
        "me": me,
        "role": principal.role,
        "scheme": scheme,
        "matching_words": my_views.MATCHING_WORDS[MatchingModel(scheme.matching_model)],
        "invitations": [p for p in pairs if p.state == State.MENTOR_INVITED],
        "current": [p for p in pairs if p.is_open],
        "past": [p for p in pairs if not p.is_open],
    }
    return await render(request, "my/home.html", context)


@router.post("/requests", response_class=HTMLResponse)
async def ask_for_mentor(request: Request, principal: SignedIn) -> Response:
    """A mentee asks for a mentor in their scheme (POST /v1/relationships)."""
    await posted(request)
    check_person(principal, "mentee")
    check_allowed(principal, Action.REQUEST_MENTOR)
    mentoring = runtime_of(request).mentoring
    assert principal.subject_id is not None
    mentee = await run_in_threadpool(mentoring.get_mentee, principal.subject_id)
    errors, status = await attempt(
        lambda: mentoring.request_mentor(mentee.scheme_id, mentee.id, [], principal.actor),
        "ask",
    )
    if errors:
        return await render(request, "my/refused_action.html", {"errors": errors}, status)
    return see_other("/my")


# Profile ------------------------------------------------------------------------


async def profile_page(
    request: Request,
    principal: Principal,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    mentoring = runtime_of(request).mentoring
    me = await run_in_threadpool(my_views.person, mentoring, principal)
    held = 0
    if isinstance(me, Mentor):
        held = (await run_in_threadpool(mentoring.matchmaking.places_held))[me.id]
    context = {
        "me": me,
        "role": principal.role,
        "places_held": held,
        "errors": errors or {},
        "form": form or {},
    }
    return await render(request, "my/profile.html", context, status)


@router.get("/profile", response_class=HTMLResponse)
async def profile(request: Request, principal: SignedIn) -> Response:
    check_person(principal)
    return await profile_page(request, principal)


@router.post("/profile/availability", response_class=HTMLResponse)
async def change_availability(request: Request, principal: SignedIn) -> Response:
    """A mentor's capacity and whether they take new mentees (PATCH /v1/mentors/{id})."""
    form = await posted(request)
    check_person(principal, "mentor")
    check_allowed(principal, Action.UPDATE_MENTOR)
    try:
        body = availability_body(form)
    except FormRefused as refused:
        return await profile_page(request, principal, refused.errors, form, 422)
    mentoring = runtime_of(request).mentoring
    assert principal.subject_id is not None
    mentor_id = principal.subject_id
    errors, status = await attempt(
        lambda: mentoring.update_mentor(
            mentor_id, principal.actor, capacity=body.capacity, available=body.available
        ),
        "capacity",
    )
    if errors:
        return await profile_page(request, principal, errors, form, status)
    return see_other("/my/profile")


@router.post("/profile/objectives", response_class=HTMLResponse)
async def change_objectives(request: Request, principal: SignedIn) -> Response:
    """A mentee rewrites their objectives (PATCH /v1/mentees/{id})."""
    form = await posted(request)
    check_person(principal, "mentee")
    check_allowed(principal, Action.CHANGE_OBJECTIVES)
    try:
        body = objectives_body(form)
    except FormRefused as refused:
        return await profile_page(request, principal, refused.errors, form, 422)
    mentoring = runtime_of(request).mentoring
    assert principal.subject_id is not None
    mentee_id = principal.subject_id
    errors, status = await attempt(
        lambda: mentoring.update_mentee(mentee_id, principal.actor, objectives=body.objectives),
        "objectives",
    )
    if errors:
        return await profile_page(request, principal, errors, form, status)
    return see_other("/my/profile")


# Choosing a mentor ----------------------------------------------------------------


async def open_request(request: Request, principal: Principal) -> Any:
    """The mentee's request waiting for a mentor, or None."""
    mentoring = runtime_of(request).mentoring
    assert principal.subject_id is not None
    mentee = await run_in_threadpool(mentoring.get_mentee, principal.subject_id)
    if mentee.open_relationship_id is None:
        return None
    relationship = await run_in_threadpool(
        my_views.load_own, mentoring, principal, mentee.open_relationship_id
    )
    return relationship if relationship.state == State.REQUESTED else None


async def choosing_page(
    request: Request, principal: Principal, errors: Errors | None = None, status: int = 200
) -> Response:
    """The directory (mentee choice) or the suggestions (hybrid) of the mentee's
    open request, as GET /v1/relationships/{id}/candidates gives them to a mentee."""
    check_person(principal, "mentee")
    check_allowed(principal, Action.INVITE_MENTOR)
    runtime = runtime_of(request)
    mentoring = runtime.mentoring
    assert principal.subject_id is not None
    mentee = await run_in_threadpool(mentoring.get_mentee, principal.subject_id)
    scheme = await run_in_threadpool(mentoring.get_scheme, mentee.scheme_id)
    check_may_invite(principal, scheme)
    relationship = await open_request(request, principal)
    hybrid = scheme.matching_model == MatchingModel.HYBRID
    context: dict[str, Any] = {
        "scheme": scheme,
        "relationship": relationship,
        "errors": errors or {},
        "candidates": [],
        "directory": [],
        "pick_by": "",
    }
    if relationship is not None:
        context["candidates"] = await run_in_threadpool(
            candidates_for, mentoring, principal, relationship, None
        )
        if hybrid:
            context["pick_by"] = my_views.after(
                relationship.requested_since, scheme.matching["pick_within"]
            )
    template = "my/suggestions.html" if hybrid else "my/directory.html"
    if not hybrid:
        specialty = request.query_params.get("specialty") or None
        context["specialty"] = specialty or ""
        context["directory"] = await run_in_threadpool(
            read_side.mentor_directory,
            runtime.pool,
            principal,
            scheme.id,
            specialty,
            None,
        )
        context["eligible"] = {str(c.mentor_id) for c in context["candidates"]}
    return await render(request, template, context, status)


@router.get("/directory", response_class=HTMLResponse)
async def directory(request: Request, principal: SignedIn) -> Response:
    """The mentors of a mentee-choice scheme: specialty, interests, who has room."""
    return await choosing_page(request, principal)


@router.get("/suggestions", response_class=HTMLResponse)
async def suggestions(request: Request, principal: SignedIn) -> Response:
    """The mentors a hybrid scheme suggests, with the reasons, to pick one."""
    return await choosing_page(request, principal)


@router.post("/invite", response_class=HTMLResponse)
async def invite(request: Request, principal: SignedIn) -> Response:
    """Invite one mentor to the open request (POST /v1/relationships/{id}/invite)."""
    form = await posted(request)
    check_person(principal, "mentee")
    check_allowed(principal, Action.INVITE_MENTOR)
    mentoring = runtime_of(request).mentoring
    relationship = await open_request(request, principal)
    try:
        mentor_id = UUID(form.get("mentor_id", ""))
    except ValueError:
        return await choosing_page(request, principal, {"mentor": "Choose a mentor"}, 422)
    if relationship is None:
        errors = {"mentor": "You have no request waiting for a mentor"}
        return await choosing_page(request, principal, errors, 409)
    scheme = await run_in_threadpool(mentoring.get_scheme, relationship.scheme_id)
    check_may_invite(principal, scheme)
    errors, status = await attempt(
        lambda: mentoring.invite_mentor(relationship.id, mentor_id, principal.actor), "mentor"
    )
    if errors:
        return await choosing_page(request, principal, errors, status)
    return see_other("/my")


# Invitations ----------------------------------------------------------------------


async def invitation_page(
    request: Request,
    principal: Principal,
    relationship_id: UUID,
    errors: Errors | None = None,
    status: int = 200,
) -> Response:
    check_person(principal, "mentor")
    check_allowed(principal, Action.RESPOND_TO_INVITATION)
    mentoring = runtime_of(request).mentoring
    relationship = await run_in_threadpool(my_views.load_own, mentoring, principal, relationship_id)
    mentee = await run_in_threadpool(mentoring.get_mentee, relationship.mentee_id)
    scheme = await run_in_threadpool(mentoring.get_scheme, relationship.scheme_id)
    answer = request.query_params.get("answer")
    context = {
        "relationship": relationship,
        "open": relationship.state == State.MENTOR_INVITED,
        "mentee": mentee,
        "scheme": scheme,
        "answer": answer if answer in ("accept", "decline") else "",
        "errors": errors or {},
        "words": my_views.state_words(relationship.state, relationship.end_kind),
        "decline_reasons": my_views.DECLINE_WORDS,
    }
    return await render(request, "my/invitation.html", context, status)


@router.get("/invitations/{relationship_id}", response_class=HTMLResponse)
async def invitation(request: Request, principal: SignedIn, relationship_id: UUID) -> Response:
    """The invitation, `?answer=accept|decline` choosing the answer beforehand; the
    answer itself is a post."""
    return await invitation_page(request, principal, relationship_id)


@router.post("/invitations/{relationship_id}", response_class=HTMLResponse)
async def answer_invitation(
    request: Request, principal: SignedIn, relationship_id: UUID
) -> Response:
    """Accept or decline (POST /v1/relationships/{id}/respond); a decline needs no
    reason."""
    form = await posted(request)
    check_person(principal, "mentor")
    check_allowed(principal, Action.RESPOND_TO_INVITATION)
    mentoring = runtime_of(request).mentoring
    await run_in_threadpool(my_views.load_own, mentoring, principal, relationship_id)
    try:
        body = answer_body(form)
    except FormRefused as refused:
        return await invitation_page(request, principal, relationship_id, refused.errors, 422)
    errors, status = await attempt(
        lambda: mentoring.respond_to_invitation(
            relationship_id, body.accept, principal.actor, body.reason_category
        ),
        "answer",
    )
    if errors:
        return await invitation_page(request, principal, relationship_id, errors, status)
    return see_other(f"/my/relationships/{relationship_id}" if body.accept else "/my")


# A relationship -------------------------------------------------------------------


async def relationship_page(
    request: Request,
    principal: Principal,
    relationship_id: UUID,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    check_person(principal)
    check_allowed(principal, Action.READ_RELATIONSHIP)
    mentoring = runtime_of(request).mentoring
    relationship = await run_in_threadpool(my_views.load_own, mentoring, principal, relationship_id)
    scheme = await run_in_threadpool(mentoring.get_scheme, relationship.scheme_id)
    other_kind = "mentee" if principal.role == "mentor" else "mentor"
    other_id = relationship.mentee_id if other_kind == "mentee" else relationship.mentor_id
    other = await run_in_threadpool(my_views.name_of, mentoring, other_kind, other_id)
    totals = await run_in_threadpool(my_views.meeting_totals, mentoring, relationship_id)
    context = {
        "relationship": relationship,
        "scheme": scheme,
        "role": principal.role,
        "other_kind": other_kind,
        "other_name": other,
        "words": my_views.state_words(relationship.state, relationship.end_kind),
        "paired": relationship.state in (State.MATCHED, State.ACTIVE),
        "is_open": relationship.is_open,
        "asks_pairing": relationship.state == State.ACTIVE
        and principal.role not in relationship.pairing_checked_by,
        "answered_pairing": principal.role in relationship.pairing_checked_by,
        "due": my_views.next_due(relationship, scheme),
        "totals": totals,
        "modes": my_views.MODE_WORDS,
        "pause_reasons": my_views.PAUSE_WORDS,
        "long_date": my_views.long_date,
        "errors": errors or {},
        "form": form or {},
    }
    return await render(request, "my/relationship.html", context, status)


@router.get("/relationships/{relationship_id}", response_class=HTMLResponse)
async def relationship(request: Request, principal: SignedIn, relationship_id: UUID) -> Response:
    return await relationship_page(request, principal, relationship_id)


async def take_part(
    request: Request,
    principal: Principal,
    relationship_id: UUID,
    command: Callable[[Mapping[str, str]], Callable[[], Any]],
    field: str,
) -> Response:
    """A party's action on their relationship, under TAKE_PART and the
    relationship's scope as in the API: the form read by `command` (FormRefused:
    422), then the command run (refused: 409 or 422)."""
    form = await posted(request)
    check_person(principal)
    check_allowed(principal, Action.TAKE_PART)
    mentoring = runtime_of(request).mentoring
    await run_in_threadpool(my_views.load_own, mentoring, principal, relationship_id)
    try:
        run = command(form)
    except FormRefused as refused:
        return await relationship_page(
            request, principal, relationship_id, refused.errors, form, 422
        )
    errors, status = await attempt(run, field)
    if errors:
        return await relationship_page(request, principal, relationship_id, errors, form, status)
    return see_other(f"/my/relationships/{relationship_id}")


@router.post("/relationships/{relationship_id}/meetings", response_class=HTMLResponse)
async def log_meeting(request: Request, principal: SignedIn, relationship_id: UUID) -> Response:
    """That a meeting happened: date, mode, duration; never what was said."""
    mentoring = runtime_of(request).mentoring

    def command(form: Mapping[str, str]) -> Callable[[], Any]:
        body = meeting_body(form)
        return lambda: mentoring.log_meeting(
            relationship_id, body.held_on, body.mode, body.duration_minutes, principal.actor
        )

    return await take_part(request, principal, relationship_id, command, "held_on")


@router.post("/relationships/{relationship_id}/agreement", response_class=HTMLResponse)
async def record_agreement(
    request: Request, principal: SignedIn, relationship_id: UUID
) -> Response:
    """The mentoring agreement: how often to meet, ground rules, confidentiality."""
    mentoring = runtime_of(request).mentoring

    def command(form: Mapping[str, str]) -> Callable[[], Any]:
        body = agreement_body(form)
        return lambda: mentoring.record_agreement(
            relationship_id,
            body.meeting_frequency,
            body.ground_rules_agreed,
            body.confidentiality_agreed,
            principal.actor,
        )

    return await take_part(request, principal, relationship_id, command, "meeting_frequency")


@router.post("/relationships/{relationship_id}/pause", response_class=HTMLResponse)
async def pause(request: Request, principal: SignedIn, relationship_id: UUID) -> Response:
    """Pause for leave: every timer stops until the pair resumes."""
    mentoring = runtime_of(request).mentoring

    def command(form: Mapping[str, str]) -> Callable[[], Any]:
        body = pause_body(form)
        return lambda: mentoring.pause(
            relationship_id, body.reason_category, body.until, principal.actor
        )

    return await take_part(request, principal, relationship_id, command, "reason_category")


@router.post("/relationships/{relationship_id}/resume", response_class=HTMLResponse)
async def resume(request: Request, principal: SignedIn, relationship_id: UUID) -> Response:
    mentoring = runtime_of(request).mentoring

    def command(form: Mapping[str, str]) -> Callable[[], Any]:
        return lambda: mentoring.resume(relationship_id, principal.actor)

    return await take_part(request, principal, relationship_id, command, "resume")


@router.post("/relationships/{relationship_id}/end", response_class=HTMLResponse)
async def end_without_blame(
    request: Request, principal: SignedIn, relationship_id: UUID
) -> Response:
    """End without blame: no reason asked; the others see only "ended, no blame"."""
    mentoring = runtime_of(request).mentoring

    def command(form: Mapping[str, str]) -> Callable[[], Any]:
        return lambda: mentoring.end(relationship_id, "no_blame", None, principal.actor)

    return await take_part(request, principal, relationship_id, command, "end")


@router.post("/relationships/{relationship_id}/pairing-check", response_class=HTMLResponse)
async def check_pairing(request: Request, principal: SignedIn, relationship_id: UUID) -> Response:
    """The party's private answer to "Is this pairing working for you?"; a "no" is
    told to the coordinators, never to the other party."""
    mentoring = runtime_of(request).mentoring

    def command(form: Mapping[str, str]) -> Callable[[], Any]:
        working = yes_no(form.get("working"))
        if not isinstance(working, bool):
            raise FormRefused({"working": "Select yes or no"})
        return lambda: mentoring.check_pairing(
            relationship_id, principal.role, working, principal.actor
        )

    return await take_part(request, principal, relationship_id, command, "working")


@router.post("/relationships/{relationship_id}/rematch-request", response_class=HTMLResponse)
async def ask_for_rematch(request: Request, principal: SignedIn, relationship_id: UUID) -> Response:
    """The mentee asks the coordinator for a new mentor, once the pairing has ended."""
    check_person(principal, "mentee")
    mentoring = runtime_of(request).mentoring

    def command(form: Mapping[str, str]) -> Callable[[], Any]:
        return lambda: mentoring.ask_for_rematch(relationship_id, principal.actor)

    return await take_part(request, principal, relationship_id, command, "rematch")


# The appraisal record -------------------------------------------------------------


@router.get("/record", response_class=HTMLResponse)
async def record(request: Request, principal: SignedIn) -> Response:
    """A summary for appraisal and revalidation: scheme, dates, number and hours of
    meetings, agreement in place; nothing of what was said."""
    check_person(principal)
    runtime = runtime_of(request)
    me = await run_in_threadpool(my_views.person, runtime.mentoring, principal)
    rows = await run_in_threadpool(my_views.record_rows, runtime, principal)
    return await render(request, "my/record.html", {"me": me, "role": principal.role, "rows": rows})


def install(app: FastAPI) -> None:
    """The mentors' and mentees' own pages."""
    app.include_router(router)
