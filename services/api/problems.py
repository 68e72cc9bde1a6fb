"""Errors as RFC 9457 problem details (`application/problem+json`)."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError, InvalidValue, NotEligible, TransitionRefused
from services.access import Forbidden
from services.errors import Conflict, NotFound, ProjectionsBehind

log = logging.getLogger("mentoring.api")

PROBLEM_JSON = "application/problem+json"


class Unauthorized(Exception):
    """No token, or a token we do not know, or one expired or revoked."""


class Throttled(Exception):
    """Too many tokens that are not valid from this client lately (services.throttle):
    it may present one again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed authentications; retry in {retry_after} s")
        self.retry_after = retry_after


class InputError(BaseModel):
    """Where the input is wrong (`["body", "capacity"]`, `["query", "limit"]`) and how.
    An error of a CSV file imported also names its `row` (the header is row 1) and
    `column` (null: the whole row or file)."""

    loc: list[str | int]
    msg: str
    row: int | None = None
    column: str | None = None


class Problem(BaseModel):
    """An error answer (RFC 9457). A refused transition adds the `command` and the
    `state` it was refused in, an ineligible mentor the `reason`, bad input `errors`,
    a read whose reports are behind the `projections` behind (and those `stalled`)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[InputError] | None = None
    command: str | None = None
    state: str | None = None
    reason: str | None = None
    projections: list[str] | None = None
    stalled: list[str] | None = None


def problems(*statuses: HTTPStatus) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that may answer these problems; the OpenAPI
    document gives them as `application/problem+json` (publish_as_problem_json)."""
    return {status.value: {"model": Problem, "description": status.phrase} for status in statuses}


# What every route behind a bearer token may answer: no or an unknown token, a role
# that may not, input it cannot read (its path, query or body), and too many failed
# authentications from the caller's address.
AUTHENTICATED = problems(
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.FORBIDDEN,
    HTTPStatus.UNPROCESSABLE_ENTITY,
    HTTPStatus.TOO_MANY_REQUESTS,
)
# What a route about one record (or scheme) may answer besides: it is not there, or
# not yours to see.
ONE_RECORD = problems(HTTPStatus.NOT_FOUND)
# What a command may answer besides: a record it names is not there, it is refused
# in this state or by a concurrent change, or its body is too large.
COMMAND = problems(HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
# What a read of the reporting projections may answer besides: they are behind.
BEHIND = problems(HTTPStatus.SERVICE_UNAVAILABLE)
# What a read may answer besides, when it is refused in the record's state.
REFUSED = problems(HTTPStatus.CONFLICT)
# What a command without a record to find may answer besides: its body is too large.
CREATION = problems(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def problem(status: int, title: str, detail: str, slug: str, **extra: Any) -> JSONResponse:
    body = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    return JSONResponse(body | extra, status_code=status, media_type=PROBLEM_JSON)


def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid")} for e in error.errors()
    ]
    return problem(
        422, "Invalid request", "the request has invalid input", "validation", errors=errors
    )


def _invalid_value(request: Request, error: Exception) -> JSONResponse:
    return problem(
        422,
        "Invalid request",
        str(error),
        "validation",
        errors=[{"loc": ["body"], "msg": str(error)}],
    )


def _refused(request: Request, error: Exception) -> JSONResponse:
    extra: dict[str, Any] = {}
    if isinstance(error, TransitionRefused):
        extra = {"state": error.state, "command": error.command}
    if isinstance(error, NotEligible):
        extra = {"reason": error.reason}
    return problem(409, "Refused", str(error), "refused", **extra)


def _conflict(request: Request, error: Exception) -> JSONResponse:
    return problem(409, "Conflict", str(error), "conflict")


def _not_found(request: Request, error: Exception) -> JSONResponse:
    return problem(404, "Not found", str(error), "not-found")


def _behind(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProjectionsBehind)
    response = problem(
        503,
        "Reports behind",
        str(error),
        "projections-behind",
        projections=error.projections,
        stalled=error.stalled,
    )
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _forbidden(request: Request, error: Exception) -> JSONResponse:
    return problem(403, "Forbidden", str(error), "forbidden")


def _unauthorized(request: Request, error: Exception) -> JSONResponse:
    response = problem(401, "Unauthorized", "a valid bearer token is required", "unauthorized")
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _throttled(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Throttled)
    response = problem(429, "Too many requests", str(error), "throttled")
    response.headers["Retry-After"] = str(error.retry_after)
    return response


def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    response = problem(error.status_code, str(error.detail), str(error.detail), "http")
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "something went wrong on our side", "internal")


def install(app: FastAPI) -> None:
    """Route every error to a problem response. Order matters: InvalidValue is a
    DomainError but means bad input (422), not a refused transition (409)."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(InvalidValue, _invalid_value)
    app.add_exception_handler(DomainError, _refused)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(ProjectionsBehind, _behind)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(Throttled, _throttled)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


def publish_as_problem_json(document: dict[str, Any]) -> None:
    """Give every Problem answer of an OpenAPI document the media type it is sent
    with; FastAPI puts a route's extra `responses=` under the route's own."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                schema = content.get("application/json", {}).get("schema", {})
                if schema.get("$ref", "").endswith(f"/{Problem.__name__}"):
                    response["content"] = {PROBLEM_JSON: content.pop("application/json")}
