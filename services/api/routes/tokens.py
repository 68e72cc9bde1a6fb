"""Issuing bearer tokens (admin only)."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.access import Action
from services.api import answers
from services.api.deps import RuntimeDep, require
from services.api.problems import AUTHENTICATED, CREATION
from services.api.schemas import TokenIn
from services.auth import Principal

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=AUTHENTICATED)

TokenIssuer = Annotated[Principal, Depends(require(Action.ISSUE_TOKENS))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.IssuedToken,
    responses=CREATION,
    summary="Issue a bearer token for a role",
)
def create_token(body: TokenIn, principal: TokenIssuer, runtime: RuntimeDep) -> dict[str, str]:
    token = runtime.issue_token(body.role, body.label, body.subject_id, body.scheme_ids)
    return {"token": token, "role": body.role, "label": body.label}
