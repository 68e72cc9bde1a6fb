"""The FastAPI application."""

import logging
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from services.api import docs, problems
from services.api.access_log import AccessLogMiddleware
from services.api.deps import publish_roles
from services.api.middleware import (
    IdempotencyMiddleware,
    RequestLimitsMiddleware,
    SecurityHeadersMiddleware,
)
from services.api.routes import (
    erasure,
    health,
    imports,
    leavers,
    notifications,
    people,
    relationships,
    reports,
    schemes,
    staff,
    subject_access,
    survey_rounds,
    tokens,
)
from services.runtime import Runtime
from services.web import board, my_pages, people_pages, report_pages, signin, surveys
from services.web import subject_access as subject_access_pages
from services.web.links import keep_link_tokens_out_of
from services.web.oidc import install_oidc


class MentoringApi(FastAPI):
    """The API, whose OpenAPI document gives error answers as problem+json, and whose
    every answer carries the security headers (SecurityHeadersMiddleware)."""

    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's ServerErrorMiddleware, so an unexpected 500 has them too.
        return SecurityHeadersMiddleware(super().build_middleware_stack())

    def openapi(self) -> dict[str, Any]:
        fresh = self.openapi_schema is None
        document = super().openapi()
        if fresh:
            problems.publish_as_problem_json(document)
        return document


def create_api() -> MentoringApi:
    """The routes, their error answers and the roles that may call each (`x-roles`),
    the docs page and the web pages (services.web, left out of the OpenAPI
    document), without a runtime to serve them: enough for the OpenAPI document
    (services.api.reference)."""
    app = MentoringApi(
        title="Mentoring relationships",
        version="1",
        summary="Formal mentoring schemes for doctors: relationships, timers, reports.",
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    docs.install(app)
    for router in (
        health.router,
        tokens.router,
        schemes.router,
        people.router,
        relationships.router,
        reports.router,
        staff.router,
        notifications.router,
        imports.router,
        survey_rounds.router,
        erasure.router,
        leavers.router,
        subject_access.router,
    ):
        publish_roles(router)
        app.include_router(router)
    survey_rounds.install(app)
    signin.install(app)
    board.install(app)
    people_pages.install(app)
    surveys.install(app)
    my_pages.install(app)
    app.include_router(subject_access_pages.router)
    app.include_router(report_pages.router)
    return app


def create_app(runtime: Runtime) -> FastAPI:
    app = create_api()
    app.state.runtime = runtime
    install_oidc(app, runtime)
    # Added last runs first: the request limits guard everything, idempotency sees
    # only requests within them.
    app.add_middleware(
        IdempotencyMiddleware,
        store=runtime.idempotency,
        max_body_bytes=runtime.settings.max_body_bytes,
    )
    app.add_middleware(AccessLogMiddleware, runtime=runtime)
    app.add_middleware(RequestLimitsMiddleware, max_body_bytes=runtime.settings.max_body_bytes)
    return app


def server_config(
    app: FastAPI | Callable[[], FastAPI],
    host: str,
    port: int,
    log_level: str = "info",
    workers: int = 1,
) -> uvicorn.Config:
    """How the app is served (`mentoring up` and `api`): uvicorn, sending no `server`
    banner that names it, and logging no sign-in link's token. With `workers` over 1,
    `app` is the factory each worker process calls (services.serving)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        server_header=False,
        workers=workers,
        factory=workers > 1,
    )
    keep_link_tokens_out_of(logging.getLogger("uvicorn.access"))
    return config
