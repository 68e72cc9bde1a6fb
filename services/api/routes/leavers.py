"""Leavers: a mentor or mentee who has left the scheme."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from services.access import Action, check_scheme
from services.api.answers import Answer, Position, Timestamp
from services.api.deps import MentoringDep, require
from services.api.problems import AUTHENTICATED, COMMAND
from services.auth import Principal
from services.views import jsonable

router = APIRouter(tags=["people"], responses=AUTHENTICATED)

LeaverRecorder = Annotated[Principal, Depends(require(Action.RECORD_LEAVER))]


class Leaver(Answer):
    """The person recorded as having left the scheme, and when."""

    id: UUID
    left_at: Timestamp
    position: Position


@router.post(
    "/v1/mentors/{mentor_id}/leave",
    response_model=Leaver,
    responses=COMMAND,
    summary="Record that a mentor has left the scheme",
)
def mentor_leaves(
    mentor_id: UUID, principal: LeaverRecorder, mentoring: MentoringDep
) -> dict[str, Any]:
    """Their pairs end `withdrawn` and the places are released; invitations awaiting
    their answer are withdrawn (the requests go back to waiting for a mentor); they
    are no longer available, and no more notifications go to them. Their records stay
    until retention. A second time is 409 (`reason: left_scheme`), changing nothing."""
    check_scheme(principal, mentoring.get_mentor(mentor_id).scheme_id, "mentor", mentor_id)
    saved = mentoring.mentor_leaves(mentor_id, principal.actor)
    return _leaver(saved.aggregate.id, saved.aggregate.left_at, saved.position)


@router.post(
    "/v1/mentees/{mentee_id}/leave",
    response_model=Leaver,
    responses=COMMAND,
    summary="Record that a mentee has left the scheme",
)
def mentee_leaves(
    mentee_id: UUID, principal: LeaverRecorder, mentoring: MentoringDep
) -> dict[str, Any]:
    """Their open relationship ends `withdrawn` (the mentor's place released); they
    cannot ask for a mentor again, and no more notifications go to them. Their records
    stay until retention. A second time is 409 (`reason: left_scheme`), changing
    nothing."""
    check_scheme(principal, mentoring.get_mentee(mentee_id).scheme_id, "mentee", mentee_id)
    saved = mentoring.mentee_leaves(mentee_id, principal.actor)
    return _leaver(saved.aggregate.id, saved.aggregate.left_at, saved.position)


def _leaver(person_id: UUID, left_at: Any, position: int) -> dict[str, Any]:
    return {"id": str(person_id), "left_at": jsonable(left_at), "position": position}
