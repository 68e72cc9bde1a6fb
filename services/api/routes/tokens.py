"""Issuing bearer tokens (admin only)."""

from fastapi import APIRouter, status

from services.access import require_role
from services.api import answers
from services.api.deps import PrincipalDep, RuntimeDep
from services.api.problems import AUTHENTICATED, CREATION
from services.api.schemas import TokenIn

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=AUTHENTICATED)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.IssuedToken,
    responses=CREATION,
    summary="Issue a bearer token for a role",
)
def create_token(body: TokenIn, principal: PrincipalDep, runtime: RuntimeDep) -> dict[str, str]:
    require_role(principal, {"admin"})
    token = runtime.issue_token(body.role, body.label, body.subject_id, body.scheme_ids)
    return {"token": token, "role": body.role, "label": body.label}
