"""Staff accounts: who signs in to the pages as an admin, coordinator, reporter or
auditor (admin only). Mentors and mentees need no account: they sign in as the
person whose profile has their email."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from pydantic import Field

from services.access import Action
from services.api import answers
from services.api.deps import RuntimeDep, require
from services.api.problems import AUTHENTICATED, CREATION, ONE_RECORD, REFUSED
from services.api.schemas import Body, Email, Phrase
from services.auth import Principal
from services.errors import Conflict
from services.staff import EmailTaken, StaffRole

router = APIRouter(prefix="/v1/staff", tags=["staff"], responses=AUTHENTICATED)

StaffManager = Annotated[Principal, Depends(require(Action.MANAGE_STAFF))]
SchemeIds = Annotated[list[UUID], Field(max_length=100)]


class StaffIn(Body):
    name: Phrase
    email: Email
    role: StaffRole
    scheme_ids: Annotated[list[UUID], Field(max_length=100)] = Field(
        default_factory=list,
        description="a coordinator's schemes (at least one); none for the other roles",
    )


class StaffChange(Body):
    role: StaffRole | None = None
    scheme_ids: SchemeIds | None = None
    active: Annotated[
        bool | None, Field(description="false ends the account's sessions at once")
    ] = None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.AddedStaffAccount,
    responses=CREATION | REFUSED,
    summary="Add a staff account (409 if the email has one already)",
)
def add_staff(body: StaffIn, principal: StaffManager, runtime: RuntimeDep) -> dict[str, Any]:
    try:
        account = runtime.add_staff(body.name, body.email, body.role, body.scheme_ids)
    except EmailTaken:
        raise Conflict("a staff account with this email exists already") from None
    return {"id": str(account.id)}


@router.get(
    "",
    response_model=list[answers.StaffAccount],
    summary="Every staff account, active or not, oldest first",
)
def list_staff(principal: StaffManager, runtime: RuntimeDep) -> list[dict[str, Any]]:
    return [account.as_json() for account in runtime.staff.accounts()]


@router.patch(
    "/{account_id}",
    response_model=answers.StaffAccount,
    responses=ONE_RECORD,
    summary="Change an account's role, schemes or whether it is active",
)
def change_staff(
    account_id: UUID, body: StaffChange, principal: StaffManager, runtime: RuntimeDep
) -> dict[str, Any]:
    account = runtime.change_staff(account_id, body.role, body.scheme_ids, body.active)
    return account.as_json()
