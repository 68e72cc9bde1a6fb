"""The FastAPI application."""

from typing import Any

from fastapi import FastAPI

from services.api import problems
from services.api.access_log import AccessLogMiddleware
from services.api.deps import publish_roles
from services.api.middleware import BodyLimitMiddleware, IdempotencyMiddleware
from services.api.routes import health, people, relationships, reports, schemes, tokens
from services.runtime import Runtime


class MentoringApi(FastAPI):
    """The API, whose OpenAPI document gives error answers as problem+json."""

    def openapi(self) -> dict[str, Any]:
        fresh = self.openapi_schema is None
        document = super().openapi()
        if fresh:
            problems.publish_as_problem_json(document)
        return document


def create_api() -> MentoringApi:
    """The routes, their error answers and the roles that may call each (`x-roles`),
    without a runtime to serve them: enough for the OpenAPI document
    (services.api.reference)."""
    app = MentoringApi(
        title="Mentoring relationships",
        version="1",
        summary="Formal mentoring schemes for doctors: relationships, timers, reports.",
    )
    problems.install(app)
    for router in (
        health.router,
        tokens.router,
        schemes.router,
        people.router,
        relationships.router,
        reports.router,
    ):
        publish_roles(router)
        app.include_router(router)
    return app


def create_app(runtime: Runtime) -> FastAPI:
    app = create_api()
    app.state.runtime = runtime
    # Added last runs first: the body limit guards everything, idempotency sees
    # only bodies within it.
    app.add_middleware(
        IdempotencyMiddleware,
        store=runtime.idempotency,
        max_body_bytes=runtime.settings.max_body_bytes,
    )
    app.add_middleware(AccessLogMiddleware, runtime=runtime)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=runtime.settings.max_body_bytes)
    return app
