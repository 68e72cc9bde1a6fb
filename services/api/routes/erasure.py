"""Erasure of a person (UK GDPR Article 17): services.erasure."""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import Field

from domain.people import Mentor
from services.access import Action
from services.api.answers import Answer, Position, Timestamp
from services.api.deps import RuntimeDep, require
from services.api.problems import AUTHENTICATED, COMMAND
from services.api.schemas import Body
from services.auth import Principal
from services.erasure import erase_person
from services.mail.transport import mail_directory

router = APIRouter(tags=["people"], responses=AUTHENTICATED)

Eraser = Annotated[Principal, Depends(require(Action.ERASE_PEOPLE))]


class ErasureIn(Body):
    """Why the person is erased, for the record (say which request or rule: never
    details about the person)."""

    reason: Annotated[str, Field(min_length=1, max_length=200)]


class Erased(Answer):
    """The person as erased: their personal details now read as `erased` everywhere."""

    id: UUID
    kind: Literal["mentor", "mentee"]
    erased: bool
    erased_at: Timestamp
    position: Position


@router.post(
    "/v1/people/{person_id}/erase",
    response_model=Erased,
    responses=COMMAND,
    summary="Erase a mentor or mentee for good",
)
def erase(
    person_id: UUID, body: ErasureIn, principal: Eraser, runtime: RuntimeDep
) -> dict[str, Any]:
    """Erase a mentor or mentee for good: their key is destroyed, so their name,
    email, objectives, demographics and their pairs' pause reasons can no longer be
    read from any event, and the tables beside the events are scrubbed. Who erased
    them, when and why stays on the record. 409 while one of their relationships is
    open: end it first. Erasing someone already erased changes nothing."""
    saved = erase_person(
        runtime.mentoring,
        runtime.pool,
        person_id,
        body.reason,
        principal.actor,
        mail_directory=mail_directory(runtime.settings).directory,
    )
    person = saved.aggregate
    return {
        "id": person.id,
        "kind": "mentor" if isinstance(person, Mentor) else "mentee",
        "erased": person.erased,
        "erased_at": person.modified_on.isoformat(),
        "position": saved.position,
    }
