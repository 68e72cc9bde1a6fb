"""The pair page: who, state, flags, the deadlines the workflow holds, the timeline
in plain words, and the actions a coordinator may take, each a plain form post to
`/pairs/{id}/<action>` that redirects back (303) with a confirmation, or shows the
page again with the field's error (422) or the domain's refusal (409).

Access is the API's (services.api.routes.relationships): reading needs a role that
reads casework and the relationship in its scope (else 404); each action needs the
role the API route for it requires (else 403), and calls the same application
method with the same arguments.
"""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import DomainError, InvalidValue
from domain.relationship import Relationship
from domain.vocabulary import EndKind, PauseReason, State
from services.access import Action, allowed, check_allowed, check_relationship, sees_sealed
from services.api.schemas import end_of
from services.application import Mentoring
from services.auth import Principal
from services.errors import Conflict, NotFound
from services.views import candidate_view, event_view, relationship_view
from services.web.board import on_the_board, refusal_message
from services.web.csrf import CSRF_FIELD, check_csrf
from services.web.deadlines import deadlines_of
from services.web.pages import render
from services.web.sessions import SignedIn
from services.web.timeline import (
    END_KINDS,
    PAUSE_REASONS,
    STALL_REASONS,
    STATES,
    TIMERS,
    day,
    entries,
    moment,
)
from services.web.visitor import runtime_of

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Form(alias=CSRF_FIELD)]
Field = Annotated[str, Form()]
CANDIDATES_SHOWN = 10

# What each action's confirmation says, by the `done` code it redirects with.
DONE = {
    "invited": "The mentor has been invited",
    "accepted": "The invitation has been accepted on the mentor's behalf",
    "declined": "The invitation has been declined on the mentor's behalf",
    "paused": "The pair is paused, and so are its deadlines",
    "resumed": "The pair has resumed; its deadlines run on",
    "extended": "The planned end has been moved",
    "ended": "The pairing has ended",
    "rematched": "A new request for a mentor has been made for this mentee",
}


def readable(mentoring: Mentoring, principal: Principal, relationship_id: UUID) -> Relationship:
    """The relationship, for a role that may open the board's pair pages and read it,
    within the visitor's scope (else NotFound, as the API answers)."""
    check_allowed(principal, Action.READ_CASEWORK_REPORTS)
    check_allowed(principal, Action.READ_RELATIONSHIP)
    relationship = mentoring.get_relationship(relationship_id)
    check_relationship(principal, relationship)
    return relationship


@router.get("/pairs/{relationship_id}", response_class=HTMLResponse)
async def pair(
    request: Request, relationship_id: UUID, principal: SignedIn, done: str = ""
) -> Response:
    return await on_the_board(
        request,
        lambda: pair_answer(request, principal, relationship_id, done=DONE.get(done)),
    )


async def pair_answer(
    request: Request,
    principal: Principal,
    relationship_id: UUID,
    *,
    done: str | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The pair page, with a confirmation (`done`), field errors or a refusal."""
    mentoring = runtime_of(request).mentoring
    context = await run_in_threadpool(_pair_context, mentoring, principal, relationship_id)
    context["deadlines"] = await deadlines_of(request, relationship_id)
    context |= {
        "done": done,
        "errors": errors or {},
        "refusal": refusal,
        "values": values or {},
    }
    return await render(request, "board/pair.html", context, status_code=status_code)


def _pair_context(
    mentoring: Mentoring, principal: Principal, relationship_id: UUID
) -> dict[str, Any]:
    relationship = readable(mentoring, principal, relationship_id)
    scheme = mentoring.get_scheme(relationship.scheme_id)
    mentee = mentoring.get_mentee(relationship.mentee_id)
    names: dict[str, str] = {}

    def name_of_mentor(mentor_id: str) -> str:
        if mentor_id not in names:
            try:
                names[mentor_id] = str(mentoring.get_mentor(UUID(mentor_id)).name)
            except NotFound:
                names[mentor_id] = "A mentor no longer registered"
        return names[mentor_id]

    mentor = None
    if relationship.mentor_id is not None:
        mentor = mentoring.get_mentor(relationship.mentor_id)
    show_sealed = sees_sealed(principal)
    events = [event_view(e, show_sealed) for e in mentoring.relationship_events(relationship_id)]
    state = relationship.state
    candidates = []
    if state == State.REQUESTED and allowed(principal, Action.INVITE_MENTOR):
        found = mentoring.matchmaking.candidates(relationship_id, CANDIDATES_SHOWN)
        candidates = [candidate_view(candidate) for candidate in found]
    return {
        "scheme": scheme,
        "relationship": relationship_view(relationship),
        "mentee": mentee,
        "mentor": mentor,
        "timeline": list(reversed(entries(events, name_of_mentor))),
        "candidates": candidates,
        "actions": _actions(principal, relationship),
        "states": STATES,
        "stall_reasons": STALL_REASONS,
        "timer_words": TIMERS,
        "pause_reasons": PAUSE_REASONS,
        "end_kinds": END_KINDS,
        "day": day,
        "moment": moment,
    }


def _actions(principal: Principal, relationship: Relationship) -> set[str]:
    """The actions to offer: those the visitor's role may take (as the API's routes
    require) that make sense in the pair's state. The domain decides in the end."""
    state = relationship.state
    offered = set()
    if allowed(principal, Action.INVITE_MENTOR) and state == State.REQUESTED:
        offered.add("invite")
    if allowed(principal, Action.RESPOND_TO_INVITATION) and state == State.MENTOR_INVITED:
        offered.add("respond")
    if allowed(principal, Action.TAKE_PART) and state not in (State.ENDED, State.REMATCHED):
        offered |= {"resume"} if relationship.paused else {"pause"}
        offered.add("end")
        if state == State.ACTIVE:
            offered.add("extend")
    if allowed(principal, Action.REMATCH) and state == State.ENDED:
        offered.add("rematch")
    return offered


# The actions ----------------------------------------------------------------------


async def act(
    request: Request,
    principal: Principal,
    relationship_id: UUID,
    csrf_token: str,
    action: Action,
    command: Callable[[Mentoring], Any],
    done: str,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """Check the token, the role for `action` and the relationship's scope, then run
    `command` unless the form has `errors` (422); redirect to the pair page (or the
    page `command` returns the id of) with the confirmation, or show the refusal."""
    await check_csrf(request, csrf_token)

    async def build() -> Response:
        mentoring = runtime_of(request).mentoring

        def checked_command() -> Any:
            readable(mentoring, principal, relationship_id)
            check_allowed(principal, action)
            return None if errors else command(mentoring)

        try:
            result = await run_in_threadpool(checked_command)
        except (DomainError, Conflict) as error:
            refusal = refusal_message(error)
            status_code = 422 if isinstance(error, InvalidValue) else 409
            return await pair_answer(
                request,
                principal,
                relationship_id,
                refusal=refusal,
                values=values,
                status_code=status_code,
            )
        if errors:
            return await pair_answer(
                request, principal, relationship_id, errors=errors, values=values, status_code=422
            )
        target = result if isinstance(result, UUID) else relationship_id
        return RedirectResponse(f"/pairs/{target}?done={done}", status_code=303)

    return await on_the_board(request, build)


@router.post("/pairs/{relationship_id}/invite", response_class=HTMLResponse)
async def invite(
    request: Request,
    relationship_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    mentor_id: Field = "",
) -> Response:
    """Invite one of the ranked candidates, as `POST /v1/relationships/{id}/invite`."""
    mentor = _uuid(mentor_id)
    errors = {} if mentor else {"mentor_id": "Choose a mentor to invite"}
    return await act(
        request,
        principal,
        relationship_id,
        csrf_token,
        Action.INVITE_MENTOR,
        lambda m: m.invite_mentor(relationship_id, mentor or UUID(int=0), principal.actor),
        "invited",
        errors,
    )


@router.post("/pairs/{relationship_id}/respond", response_class=HTMLResponse)
async def respond(
    request: Request,
    relationship_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    answer: Field = "",
) -> Response:
    """Accept or decline on the mentor's behalf."""
    errors = {} if answer in ("accept", "decline") else {"answer": "Choose accept or decline"}
    accept = answer == "accept"
    return await act(
        request,
        principal,
        relationship_id,
        csrf_token,
        Action.RESPOND_TO_INVITATION,
        lambda m: m.respond_to_invitation(relationship_id, accept, principal.actor),
        "accepted" if accept else "declined",
        errors,
    )


@router.post("/pairs/{relationship_id}/pause", response_class=HTMLResponse)
async def pause(
    request: Request,
    relationship_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    reason_category: Field = "",
) -> Response:
    """Pause the pair and its timers."""
    valid = reason_category in {reason.value for reason in PauseReason}
    errors = {} if valid else {"reason_category": "Choose why the pair is pausing"}
    return await act(
        request,
        principal,
        relationship_id,
        csrf_token,
        Action.TAKE_PART,
        lambda m: m.pause(relationship_id, reason_category, None, principal.actor),
        "paused",
        errors,
        {"reason_category": reason_category},
    )


@router.post("/pairs/{relationship_id}/resume", response_class=HTMLResponse)
async def resume(
    request: Request, relationship_id: UUID, principal: SignedIn, csrf_token: Token = ""
) -> Response:
    return await act(
        request,
        principal,
        relationship_id,
        csrf_token,
        Action.TAKE_PART,
        lambda m: m.resume(relationship_id, principal.actor),
        "resumed",
    )


@router.post("/pairs/{relationship_id}/extend", response_class=HTMLResponse)
async def extend(
    request: Request,
    relationship_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    until_day: Field = "",
    until_month: Field = "",
    until_year: Field = "",
) -> Response:
    """Move the planned end to the date given (the start of that day, UTC)."""
    until = _date(until_day, until_month, until_year)
    errors = {}
    if until is None:
        errors["until-day"] = "Enter the new planned end as a real date, like 31 3 2027"
    values = {"until_day": until_day, "until_month": until_month, "until_year": until_year}
    return await act(
        request,
        principal,
        relationship_id,
        csrf_token,
        Action.TAKE_PART,
        lambda m: m.extend(relationship_id, end_of(until or date.min), principal.actor),
        "extended",
        errors,
        values,
    )


@router.post("/pairs/{relationship_id}/end", response_class=HTMLResponse)
async def end(
    request: Request,
    relationship_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    kind: Field = "",
) -> Response:
    """End the pairing; no reason is asked for."""
    valid = kind in {k.value for k in EndKind}
    errors = {} if valid else {"kind": "Choose how the pairing ended"}
    return await act(
        request,
        principal,
        relationship_id,
        csrf_token,
        Action.TAKE_PART,
        lambda m: m.end(relationship_id, kind, None, principal.actor),
        "ended",
        errors,
        {"kind": kind},
    )


@router.post("/pairs/{relationship_id}/rematch", response_class=HTMLResponse)
async def rematch(
    request: Request, relationship_id: UUID, principal: SignedIn, csrf_token: Token = ""
) -> Response:
    """A new request for the same mentee; the page of the new request follows."""
    return await act(
        request,
        principal,
        relationship_id,
        csrf_token,
        Action.REMATCH,
        lambda m: m.rematch(relationship_id, principal.actor).aggregate.id,
        "rematched",
    )


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def _date(day_text: str, month_text: str, year_text: str) -> date | None:
    try:
        return date(int(year_text), int(month_text), int(day_text))
    except ValueError:
        return None
