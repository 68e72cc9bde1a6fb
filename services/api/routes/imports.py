"""Bulk import of a scheme's mentors or mentees from CSV (services.people_import)."""

from http import HTTPStatus
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from services.access import Action, check_can_register
from services.api.deps import RuntimeDep, require
from services.api.problems import AUTHENTICATED, COMMAND, problem, problems
from services.auth import Principal
from services.people_import import ImportResult, Kind, RowError, import_people

router = APIRouter(tags=["people"], responses=AUTHENTICATED)

Registrar = Annotated[Principal, Depends(require(Action.REGISTER_PEOPLE))]
CSV_MEDIA_TYPES = ("text/csv", "text/plain", "application/csv")


class ImportRowError(BaseModel):
    """What is wrong in a row of the file (the header is row 1) and a column of it
    (null: the whole row or file)."""

    model_config = ConfigDict(extra="forbid")
    row: int
    column: str | None
    msg: str


class ImportAnswer(BaseModel):
    """How many people the file registered, changed and left as they were (with
    `dry_run`: would have); `errors` is empty, as it is only in a 422 answer."""

    model_config = ConfigDict(extra="forbid")
    created: int
    updated: int
    unchanged: int
    errors: list[ImportRowError]


@router.post(
    "/v1/schemes/{scheme_id}/import",
    response_model=ImportAnswer,
    responses=COMMAND | problems(HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
    summary="Register or update a scheme's mentors or mentees from a CSV file, all or nothing",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_csv(
    scheme_id: UUID,
    kind: Kind,
    request: Request,
    principal: Registrar,
    runtime: RuntimeDep,
    dry_run: bool = False,
) -> Any:
    """One row per person, with the columns docs/import.md names. Any error in any
    row: 422 with every error (`errors: [{row, column, msg}]`, besides `loc`) and
    nothing saved. People are matched by email, so importing a file again changes
    nothing."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        return problem(
            415, "Unsupported media type", "send the file as text/csv", "unsupported-media-type"
        )
    check_can_register(principal, scheme_id)
    data = await request.body()
    result = await run_in_threadpool(
        import_people,
        runtime.mentoring,
        kind,
        scheme_id,
        data,
        principal.actor,
        dry_run,
        runtime.pool,
    )
    if result.errors:
        return refused(result.errors)
    return answer(result)


def answer(result: ImportResult) -> dict[str, Any]:
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "errors": [],
    }


def refused(errors: list[RowError]) -> JSONResponse:
    """The 422 problem of a file with errors: each as `{row, column, msg}`, and as the
    API's other input errors are (`loc`: the row and column)."""
    listed = [
        {
            "loc": ["body", error.row] + ([error.column] if error.column else []),
            "msg": error.msg,
            "row": error.row,
            "column": error.column,
        }
        for error in errors
    ]
    detail = f"the file has {len(errors)} error{'s' if len(errors) != 1 else ''}; nothing was saved"
    return problem(422, "Invalid file", detail, "invalid-import", errors=listed)
