"""Bearer tokens: issued, listed and revoked (admin only)."""

from datetime import UTC
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from services.access import Action
from services.api import answers
from services.api.deps import RuntimeDep, require
from services.api.problems import AUTHENTICATED, CREATION, ONE_RECORD
from services.api.schemas import TokenIn
from services.auth import Principal, token_lifetime
from services.errors import NotFound

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=AUTHENTICATED)

TokenManager = Annotated[Principal, Depends(require(Action.MANAGE_TOKENS))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.IssuedToken,
    responses=CREATION,
    summary="Issue a bearer token for a role, expiring after `expires_in` (default P90D)",
)
def create_token(body: TokenIn, principal: TokenManager, runtime: RuntimeDep) -> dict[str, Any]:
    issued = runtime.issue_token(
        body.role, body.label, body.subject_id, body.scheme_ids, token_lifetime(body.expires_in)
    )
    return {
        "id": str(issued.id),
        "token": issued.secret,
        "expires_at": issued.expires_at.astimezone(UTC).isoformat(),
        "role": body.role,
        "label": body.label,
    }


@router.get(
    "",
    response_model=list[answers.ListedToken],
    summary="Every issued token, without its secret, oldest first",
)
def list_tokens(principal: TokenManager, runtime: RuntimeDep) -> list[dict[str, Any]]:
    return [record.as_json() for record in runtime.tokens.tokens()]


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=ONE_RECORD,
    summary="Revoke a token: it stops working at once, in other API processes within a second",
)
def revoke_token(token_id: UUID, principal: TokenManager, runtime: RuntimeDep) -> None:
    if not runtime.tokens.revoke(token_id):
        raise NotFound("token", token_id)
