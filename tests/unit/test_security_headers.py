"""Security headers reach every answer, an unexpected 500 too (which Starlette sends
from outside the app's own middleware)."""

import asyncio

import httpx
from fastapi import FastAPI

from services.api.app import create_api


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        return await client.get(path)


def test_an_unexpected_error_is_answered_with_the_security_headers() -> None:
    app = create_api()

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    response = asyncio.run(get(app, "/v1/boom"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
