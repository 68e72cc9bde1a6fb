"""Matching a cohort: a dry run of the optimal assignment shown as proposals, each
with its score and reasons, and the requests left unmatched with why; the
coordinator ticks all or some and confirms, and those invitations go out.

The run is the API's (`POST /v1/schemes/{id}/match-cohort`,
services.matchmaking.Matchmaking.match_cohort), with the same access checks: a
role that may match cohorts, on a scheme of its own (else 404). Confirming runs the
assignment again and invites only the proposals ticked that it still makes.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from services.access import Action, check_allowed, check_scheme
from services.application import Mentoring
from services.auth import Principal
from services.errors import NotFound
from services.matchmaking import CohortRun
from services.web.board import on_the_board
from services.web.csrf import CSRF_FIELD, check_csrf
from services.web.pages import render
from services.web.sessions import SignedIn
from services.web.visitor import runtime_of

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Form(alias=CSRF_FIELD)]


def matchable_scheme(mentoring: Mentoring, principal: Principal, scheme_id: UUID) -> Any:
    """The scheme, for a role that may match cohorts and, for a coordinator, one of
    their own (else NotFound, as the API answers)."""
    check_allowed(principal, Action.MATCH_COHORT)
    check_scheme(principal, scheme_id, "scheme", scheme_id)
    return mentoring.get_scheme(scheme_id)


@router.get("/schemes/{scheme_id}/matching", response_class=HTMLResponse)
async def matching(
    request: Request, scheme_id: UUID, principal: SignedIn, cohort: str = ""
) -> Response:
    """The dry run for the cohort chosen (every cohort if none)."""

    async def build() -> Response:
        mentoring = runtime_of(request).mentoring
        context = await run_in_threadpool(
            _matching, mentoring, principal, scheme_id, cohort, True, None
        )
        status_code = 422 if context["errors"] else 200
        return await render(request, "board/matching.html", context, status_code=status_code)

    return await on_the_board(request, build)


@router.post("/schemes/{scheme_id}/matching", response_class=HTMLResponse)
async def confirm(
    request: Request,
    scheme_id: UUID,
    principal: SignedIn,
    csrf_token: Token = "",
    cohort: Annotated[str, Form()] = "",
    pair: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Invite the proposals ticked; the page says which went out and which could not."""
    await check_csrf(request, csrf_token)
    chosen = [found for found in (_pair(value) for value in pair or []) if found is not None]

    async def build() -> Response:
        mentoring = runtime_of(request).mentoring
        if not chosen:
            context = await run_in_threadpool(
                _matching, mentoring, principal, scheme_id, cohort, True, None
            )
            context["errors"] = {"pairs": "Choose at least one proposal to confirm"}
            return await render(request, "board/matching.html", context, status_code=422)
        context = await run_in_threadpool(
            _matching, mentoring, principal, scheme_id, cohort, False, chosen
        )
        status_code = 422 if context["errors"] else 200
        return await render(request, "board/matching.html", context, status_code=status_code)

    return await on_the_board(request, build)


def _matching(
    mentoring: Mentoring,
    principal: Principal,
    scheme_id: UUID,
    cohort: str,
    dry_run: bool,
    chosen: list[tuple[UUID, UUID]] | None,
) -> dict[str, Any]:
    scheme = matchable_scheme(mentoring, principal, scheme_id)
    cohorts = [c["name"] for c in scheme.cohorts]
    errors = {}
    if cohort and cohort not in cohorts:
        errors["cohort"] = "Choose a cohort from the list"
        cohort = ""
    run = None
    if errors:
        dry_run = True  # nothing was done
    else:
        run = mentoring.matchmaking.match_cohort(
            scheme_id, dry_run, principal.actor, cohort or None, chosen
        )
    return {
        "scheme": scheme,
        "cohorts": cohorts,
        "cohort": cohort,
        "errors": errors,
        "dry_run": dry_run,
        "proposals": _proposals(mentoring, run),
        "unmatched": _unmatched(mentoring, run),
    }


def _mentee_name(mentoring: Mentoring, relationship_id: UUID) -> str:
    try:
        relationship = mentoring.get_relationship(relationship_id)
        return str(mentoring.get_mentee(relationship.mentee_id).name)
    except NotFound:
        return "Unknown mentee"


def _proposals(mentoring: Mentoring, run: CohortRun | None) -> list[dict[str, Any]]:
    if run is None:
        return []
    return [
        {
            "value": f"{p.relationship_id}:{p.candidate.mentor_id}",
            "relationship_id": p.relationship_id,
            "mentee": _mentee_name(mentoring, p.relationship_id),
            "mentor": p.candidate.mentor_name,
            "score": round(p.candidate.score, 2),
            "reasons": p.candidate.reasons,
        }
        for p in run.proposals
    ]


def _unmatched(mentoring: Mentoring, run: CohortRun | None) -> list[dict[str, Any]]:
    if run is None:
        return []
    return [
        {
            "relationship_id": u.relationship_id,
            "mentee": _mentee_name(mentoring, u.relationship_id),
            "why": u.message[:1].upper() + u.message[1:],
        }
        for u in run.unmatched
    ]


def _pair(value: str) -> tuple[UUID, UUID] | None:
    """A ticked proposal, `relationship id:mentor id`; None if it is not one."""
    relationship, _, mentor = value.partition(":")
    try:
        return UUID(relationship), UUID(mentor)
    except ValueError:
        return None
