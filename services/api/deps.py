"""Typed dependencies for the routers."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from services.access import Action, check_allowed
from services.api.problems import Unauthorized
from services.application import Mentoring
from services.auth import Principal
from services.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_mentoring(request: Request) -> Mentoring:
    return get_runtime(request).mentoring


def authenticate(request: Request) -> Principal:
    """The caller of a bearer token; Unauthorized (401) if missing or unknown."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    principal = get_runtime(request).tokens.resolve(token.strip())
    if principal is None:
        raise Unauthorized()
    request.state.principal = principal  # for the access log
    return principal


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
MentoringDep = Annotated[Mentoring, Depends(get_mentoring)]
PrincipalDep = Annotated[Principal, Depends(authenticate)]


def require(action: Action) -> Callable[[Principal], Principal]:
    """A dependency giving the caller, once authenticated (401 otherwise) and if their
    role may take `action` (Forbidden, 403, otherwise). Whether they may take it on
    the record they name is for the route to check (404)."""

    def permitted(principal: PrincipalDep) -> Principal:
        check_allowed(principal, action)
        return principal

    return permitted
