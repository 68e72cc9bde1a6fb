"""The delivery log: which notifications went to whom (by role), and how."""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends

from services.access import Action, check_scheme
from services.api import answers
from services.api.deps import RuntimeDep, require
from services.api.problems import AUTHENTICATED, ONE_RECORD
from services.auth import Principal
from services.mail.deliveries import delivery_log

router = APIRouter(tags=["notifications"], responses=AUTHENTICATED)

LogReader = Annotated[Principal, Depends(require(Action.READ_DELIVERY_LOG))]


@router.get(
    "/v1/notifications",
    response_model=list[answers.Delivery],
    responses=ONE_RECORD,
    summary="The delivery log: one row per notice and recipient, newest first",
)
def list_notifications(
    principal: LogReader,
    runtime: RuntimeDep,
    scheme_id: UUID | None = None,
    relationship_id: UUID | None = None,
    status: Literal["pending", "sent", "failed", "skipped"] | None = None,
) -> list[dict[str, Any]]:
    """Admins see every scheme's; a coordinator their own schemes' (another scheme's
    id is answered 404, as an unknown one would be for them)."""
    scheme_ids: list[UUID] | None = None
    if scheme_id is not None:
        check_scheme(principal, scheme_id, "scheme", scheme_id)
        scheme_ids = [scheme_id]
    elif principal.role == "coordinator":
        scheme_ids = list(principal.scheme_ids)
    return delivery_log(runtime.pool, scheme_ids, relationship_id, status)
