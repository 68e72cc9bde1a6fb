"""The OpenAPI UI at `/docs`, served from the package: Swagger UI's script and style
are vendored in `static/swagger-ui` (its README: version, licence, checksums), so
the page loads nothing from a third party and works with no network. ReDoc is not
served."""

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
ASSETS = "/docs/assets"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install(app: FastAPI) -> None:
    """Serve `/docs` and its assets under /docs/assets. The app must be made with
    `docs_url=None, redoc_url=None`, so that FastAPI serves neither its own page
    (which loads Swagger UI from a CDN) nor ReDoc."""
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI), name="swagger-ui")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title}: API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        # No badge fetched from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    body = bytes(page.body)
    policy = page_policy(body.decode())

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})


def page_policy(html: str) -> str:
    """The Content-Security-Policy of the docs page: scripts, styles, images and
    requests from the service itself only, the page's own inline script by its
    hash, and no framing. Swagger UI sets style attributes as it renders, hence
    inline styles."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
