"""Relationships: request, match, meet, pause, extend, end, rematch, feedback.

The commands are coroutines that run the application's command in the thread pool:
one hop there and back. A plain function would take two, as FastAPI checks its
answer against the route's model in the thread pool too. Each command reads its
relationship once, and checks the caller's access on that read (`_theirs`).
"""

from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from domain.relationship import Relationship
from domain.vocabulary import State
from services import read_side
from services.access import Action, Forbidden, check_relationship, in_scheme, sees_sealed
from services.api import answers
from services.api.deps import MentoringDep, RuntimeDep, require
from services.api.problems import AUTHENTICATED, BEHIND, COMMAND, ONE_RECORD, REFUSED
from services.api.schemas import (
    AgreementIn,
    EndIn,
    ExtendIn,
    FeedbackIn,
    InviteIn,
    MeetingIn,
    PauseIn,
    RelationshipIn,
    RespondIn,
    end_of,
)
from services.application import Admit, Mentoring, Saved
from services.auth import Principal
from services.choosing import candidates_for, check_may_invite
from services.read_side import RelationshipFilter
from services.views import candidate_view, event_view, relationship_view, saved_view

router = APIRouter(prefix="/v1/relationships", tags=["relationships"], responses=AUTHENTICATED)

Reader = Annotated[Principal, Depends(require(Action.READ_RELATIONSHIP))]
Requester = Annotated[Principal, Depends(require(Action.REQUEST_MENTOR))]
Inviter = Annotated[Principal, Depends(require(Action.INVITE_MENTOR))]
Responder = Annotated[Principal, Depends(require(Action.RESPOND_TO_INVITATION))]
Participant = Annotated[Principal, Depends(require(Action.TAKE_PART))]
Rematcher = Annotated[Principal, Depends(require(Action.REMATCH))]


def _load(mentoring: Mentoring, principal: Principal, relationship_id: UUID) -> Relationship:
    """The relationship, if it is this caller's to act on (else 404)."""
    relationship = mentoring.get_relationship(relationship_id)
    check_relationship(principal, relationship)
    return relationship


def _theirs(principal: Principal) -> Admit:
    """The check a command makes of the relationship it reads, on that one read:
    NotFound (404) unless it is this caller's to act on."""
    return partial(check_relationship, principal)


def _answer(saved: Saved[Relationship]) -> dict[str, Any]:
    return saved_view(relationship_view(saved.aggregate), saved.position)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.SavedRelationship,
    responses=COMMAND,
)
async def request_mentor(
    body: RelationshipIn, principal: Requester, mentoring: MentoringDep
) -> dict[str, Any]:
    """A mentee asks for a mentor (staff may ask on their behalf). One open request
    per mentee: a second is 409."""
    if principal.role == "mentee" and principal.subject_id != body.mentee_id:
        raise Forbidden("mentees request mentors for themselves only")
    if not in_scheme(principal, body.scheme_id):
        raise Forbidden("coordinators work on their own schemes only")
    saved = await run_in_threadpool(
        mentoring.request_mentor,
        body.scheme_id,
        body.mentee_id,
        body.preferred_mentor_ids,
        principal.actor,
    )
    return _answer(saved)


@router.get("", response_model=answers.RelationshipPage, responses=BEHIND)
def list_relationships(
    principal: Reader,
    runtime: RuntimeDep,
    scheme_id: UUID | None = None,
    state: State | None = None,
    stalled: bool | None = None,
    mentor_id: UUID | None = None,
    mentee_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The relationships this caller may see, oldest first, from the read side.
    `next_cursor` is given when there may be more."""
    wanted = RelationshipFilter(
        scheme_id=scheme_id, state=state, stalled=stalled, mentor_id=mentor_id, mentee_id=mentee_id
    )
    page = read_side.relationships(runtime.pool, principal, wanted, limit, cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{relationship_id}", response_model=answers.Relationship, responses=ONE_RECORD)
def get_relationship(
    relationship_id: UUID,
    principal: Reader,
    mentoring: MentoringDep,
    as_of: AwareDatetime | None = None,
) -> dict[str, Any]:
    """The relationship now, or as it stood at `as_of`."""
    relationship = _load(mentoring, principal, relationship_id)
    if as_of is not None:
        relationship = mentoring.get_relationship(relationship_id, as_of=as_of)
    return relationship_view(relationship)


@router.get("/{relationship_id}/events", response_model=list[answers.Event], responses=ONE_RECORD)
def relationship_events(
    relationship_id: UUID, principal: Reader, mentoring: MentoringDep
) -> list[dict[str, Any]]:
    """The history. Who ended a pairing without blame, and why, only to auditors."""
    show_sealed = sees_sealed(principal)
    events = mentoring.relationship_events(relationship_id, admit=_theirs(principal))
    return [event_view(e, show_sealed) for e in events]


@router.get(
    "/{relationship_id}/candidates",
    response_model=list[answers.Candidate],
    responses=ONE_RECORD | REFUSED,
)
def candidates(
    relationship_id: UUID,
    principal: Inviter,
    mentoring: MentoringDep,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> list[dict[str, Any]]:
    """The eligible mentors for a request waiting for one, best first, each with its
    score and reasons; for staff and the mentee (who may invite). In a hybrid scheme
    the mentee sees the proposals they pick from. 409 unless the relationship is
    requested."""
    relationship = _load(mentoring, principal, relationship_id)
    found = candidates_for(mentoring, principal, relationship, limit)
    return [candidate_view(candidate) for candidate in found]


@router.post(
    "/{relationship_id}/invite",
    response_model=answers.SavedRelationship,
    responses=COMMAND,
)
async def invite(
    relationship_id: UUID, body: InviteIn, principal: Inviter, mentoring: MentoringDep
) -> dict[str, Any]:
    """Coordinators invite in every model; mentees choose their own mentor except
    where the scheme assigns mentors (in a hybrid scheme, one of their candidates)."""

    def admit(relationship: Relationship) -> None:
        check_relationship(principal, relationship)
        check_may_invite(principal, mentoring.read_scheme(relationship.scheme_id))

    return _answer(
        await run_in_threadpool(
            mentoring.invite_mentor, relationship_id, body.mentor_id, principal.actor, admit=admit
        )
    )


@router.post(
    "/{relationship_id}/respond",
    response_model=answers.SavedRelationship,
    responses=COMMAND,
    summary="The invited mentor accepts (matched) or declines (back to requested)",
)
async def respond(
    relationship_id: UUID, body: RespondIn, principal: Responder, mentoring: MentoringDep
) -> dict[str, Any]:
    saved = await run_in_threadpool(
        mentoring.respond_to_invitation,
        relationship_id,
        body.accept,
        principal.actor,
        body.reason_category,
        admit=_theirs(principal),
    )
    return _answer(saved)


@router.post(
    "/{relationship_id}/meetings",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.SavedRelationship,
    responses=COMMAND,
)
async def log_meeting(
    relationship_id: UUID, body: MeetingIn, principal: Participant, mentoring: MentoringDep
) -> dict[str, Any]:
    """That a meeting happened: date, mode, duration. Never what was said."""
    saved = await run_in_threadpool(
        mentoring.log_meeting,
        relationship_id,
        body.held_on,
        body.mode,
        body.duration_minutes,
        principal.actor,
        admit=_theirs(principal),
    )
    return _answer(saved)


@router.post(
    "/{relationship_id}/agreement",
    response_model=answers.SavedRelationship,
    responses=COMMAND,
    summary="Record the mentoring contract: how often to meet, ground rules, confidentiality",
)
async def record_agreement(
    relationship_id: UUID, body: AgreementIn, principal: Participant, mentoring: MentoringDep
) -> dict[str, Any]:
    saved = await run_in_threadpool(
        mentoring.record_agreement,
        relationship_id,
        body.meeting_frequency,
        body.ground_rules_agreed,
        body.confidentiality_agreed,
        principal.actor,
        admit=_theirs(principal),
    )
    return _answer(saved)


@router.post(
    "/{relationship_id}/pause",
    response_model=answers.SavedRelationship,
    responses=COMMAND,
    summary="Pause the relationship and every timer it has running",
)
async def pause(
    relationship_id: UUID, body: PauseIn, principal: Participant, mentoring: MentoringDep
) -> dict[str, Any]:
    saved = await run_in_threadpool(
        mentoring.pause,
        relationship_id,
        body.reason_category,
        body.until,
        principal.actor,
        admit=_theirs(principal),
    )
    return _answer(saved)


@router.post(
    "/{relationship_id}/resume",
    response_model=answers.SavedRelationship,
    responses=COMMAND,
    summary="Resume: each timer runs on with the time it had left",
)
async def resume(
    relationship_id: UUID, principal: Participant, mentoring: MentoringDep
) -> dict[str, Any]:
    return _answer(
        await run_in_threadpool(
            mentoring.resume, relationship_id, principal.actor, admit=_theirs(principal)
        )
    )


@router.post(
    "/{relationship_id}/extend",
    response_model=answers.SavedRelationship,
    responses=COMMAND,
    summary="Move the planned end later, by mutual agreement",
)
async def extend(
    relationship_id: UUID, body: ExtendIn, principal: Participant, mentoring: MentoringDep
) -> dict[str, Any]:
    return _answer(
        await run_in_threadpool(
            mentoring.extend,
            relationship_id,
            end_of(body.until),
            principal.actor,
            admit=_theirs(principal),
        )
    )


@router.post("/{relationship_id}/end", response_model=answers.SavedRelationship, responses=COMMAND)
async def end(
    relationship_id: UUID, body: EndIn, principal: Participant, mentoring: MentoringDep
) -> dict[str, Any]:
    """Either party (or staff) may end at any point; no reason is required."""
    saved = await run_in_threadpool(
        mentoring.end,
        relationship_id,
        body.kind,
        body.reason_category,
        principal.actor,
        admit=_theirs(principal),
    )
    return _answer(saved)


@router.post(
    "/{relationship_id}/rematch",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.SavedRelationship,
    responses=COMMAND,
)
async def rematch(
    relationship_id: UUID, principal: Rematcher, mentoring: MentoringDep
) -> dict[str, Any]:
    """A new request for the same mentee, previous mentors excluded."""
    return _answer(
        await run_in_threadpool(
            mentoring.rematch, relationship_id, principal.actor, admit=_theirs(principal)
        )
    )


@router.post(
    "/{relationship_id}/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.SavedRelationship,
    responses=COMMAND,
)
async def give_feedback(
    relationship_id: UUID, body: FeedbackIn, principal: Participant, mentoring: MentoringDep
) -> dict[str, Any]:
    """Survey answers. Mentors and mentees answer for themselves; staff may enter
    answers given on paper."""

    def admit(relationship: Relationship) -> None:
        check_relationship(principal, relationship)
        if principal.role in ("mentor", "mentee") and body.respondent != principal.role:
            raise Forbidden(f"a {principal.role} answers as the {principal.role}")

    saved = await run_in_threadpool(
        mentoring.give_feedback,
        relationship_id,
        body.stage,
        body.respondent,
        dict(body.answers),
        principal.actor,
        admit=admit,
    )
    return _answer(saved)
