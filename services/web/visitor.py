"""Who is asking for a page: the live session of the request's cookie, if any, and
the principal it acts as now (services.web.identity), found once per request.

A session whose account has been deactivated, or whose person is no longer found,
is ended here, on its first request since.
"""

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from services.auth import Principal
from services.runtime import Runtime
from services.web.identity import Identity, principal_of

SESSION_COOKIE = "mentoring_session"


@dataclass(frozen=True)
class Visitor:
    """A signed-in visitor: their session's secret, whom it is for, and the principal
    they act as."""

    secret: str
    identity: Identity
    principal: Principal
    csrf_token: str


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def resolve(runtime: Runtime, secret: str | None) -> Visitor | None:
    """The visitor of a session secret, or None (no secret, no live session, or one
    whose account or person is gone: that session is ended)."""
    if not secret:
        return None
    session = runtime.sessions.resume(secret)
    if session is None:
        return None
    principal = principal_of(session.identity, runtime.staff, runtime.mentoring)
    if principal is None:
        runtime.sessions.end(secret)
        return None
    return Visitor(secret, session.identity, principal, session.csrf_token)


async def visitor_of(request: Request) -> Visitor | None:
    """The request's visitor, looked up on its first call only."""
    if not hasattr(request.state, "visitor"):
        secret = request.cookies.get(SESSION_COOKIE)
        visitor = await run_in_threadpool(resolve, runtime_of(request), secret)
        request.state.visitor = visitor
        if visitor is not None:
            request.state.principal = visitor.principal  # for the access log
    found: Visitor | None = request.state.visitor
    return found
