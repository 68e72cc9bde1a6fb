"""Typed dependencies for the routers."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from domain.actors import ROLES, Role
from services.access import POLICY, Action, check_allowed
from services.api.problems import Throttled, Unauthorized
from services.application import Mentoring
from services.auth import Principal
from services.runtime import Runtime

# The dependencies are coroutines, run on the event loop: a plain function would be
# run in the thread pool, one hop there and back for each of them, each request.


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_mentoring(request: Request) -> Mentoring:
    runtime: Runtime = request.app.state.runtime
    return runtime.mentoring


async def authenticate(request: Request) -> Principal:
    """The caller of a bearer token; Unauthorized (401) if it is missing, unknown,
    expired or revoked. A token found valid within the last second is not read
    again (services.auth.TRUSTED_FOR). Any other is Throttled (429) without being
    looked up when the client's address has presented too many that were not valid
    (services.throttle); each of those counts, a missing token does not. The
    database is read in the thread pool, never on the event loop."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    runtime: Runtime = request.app.state.runtime
    token = token.strip()
    principal = runtime.tokens.trusted(token)
    if principal is None:
        address = request.client.host if request.client else "unknown"
        principal = await run_in_threadpool(look_up, runtime, address, token)
    request.state.principal = principal  # for the access log
    return principal


def look_up(runtime: Runtime, address: str, token: str) -> Principal:
    """The token's caller, read from the database unless the address is throttled;
    a token not found counts against the address."""
    retry_after = runtime.failed_authentications.retry_after(address)
    if retry_after is not None:
        raise Throttled(retry_after)
    principal = runtime.tokens.resolve(token)
    if principal is None:
        runtime.failed_authentications.record(address)
        raise Unauthorized()
    return principal


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
MentoringDep = Annotated[Mentoring, Depends(get_mentoring)]
PrincipalDep = Annotated[Principal, Depends(authenticate)]


@dataclass(frozen=True)
class Require:
    """The dependency `require(action)` gives; `action` tells the OpenAPI document
    which roles may call the route (publish_roles)."""

    action: Action

    async def __call__(self, principal: PrincipalDep) -> Principal:
        check_allowed(principal, self.action)
        return principal


def require(action: Action) -> Require:
    """A dependency giving the caller, once authenticated (401 otherwise) and if their
    role may take `action` (Forbidden, 403, otherwise). Whether they may take it on
    the record they name is for the route to check (404)."""
    return Require(action)


def allowed_roles(route: APIRoute) -> list[Role] | None:
    """The roles that may call a route, in `ROLES` order: those POLICY gives each action
    it requires, or every role for a route that only authenticates; None for a route
    that takes no token."""
    calls = _calls(route.dependant)
    actions = [call.action for call in calls if isinstance(call, Require)]
    if not actions and authenticate not in calls:
        return None
    return [role for role in ROLES if all(role in POLICY[action] for action in actions)]


def _calls(dependant: Dependant) -> list[Any]:
    """Every dependency a route's dependant calls, however deep."""
    calls = []
    for dependency in dependant.dependencies:
        calls += [dependency.call, *_calls(dependency)]
    return calls


def publish_roles(router: APIRouter) -> None:
    """Give each of the router's operations behind a token `x-roles` in the OpenAPI
    document: the roles that may call it (allowed_roles)."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            roles = allowed_roles(route)
            if roles is not None:
                route.openapi_extra = (route.openapi_extra or {}) | {"x-roles": roles}
