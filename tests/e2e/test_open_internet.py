"""Answers fit for the open internet, over a real socket: security headers on every
answer, no `server` banner, /docs served from the package with no third party,
and JSON or URLs a parser or server could choke on refused as problems."""

import base64
import hashlib
import http.client
import re
import uuid
from collections.abc import Callable

import httpx
import pytest

from services.api.docs import SWAGGER_UI
from services.api.middleware import MAX_JSON_DEPTH, MAX_URL_BYTES
from tests.e2e.client import ADMIN_TOKEN, Api

JSON = {"content-type": "application/json"}
SCHEME = {"name": "Open internet", "matching_model": "assigned"}

Ask = Callable[[Api], httpx.Response]
ANSWERS: dict[str, Ask] = {
    "health": lambda api: api.admin.get("/healthz"),
    "the OpenAPI document": lambda api: api.admin.get("/openapi.json"),
    "the docs page": lambda api: api.admin.get("/docs"),
    "a docs asset": lambda api: api.admin.get("/docs/assets/swagger-ui.css"),
    "a record created": lambda api: api.admin.post("/v1/schemes", json=SCHEME),
    "a list": lambda api: api.admin.get("/v1/relationships"),
    "a CSV report": lambda api: api.admin.get(
        "/v1/reports/mentor-load", headers={"Accept": "text/csv"}
    ),
    "no token": lambda api: httpx.get(f"{api.base_url}/v1/relationships"),
    "an unknown record": lambda api: api.admin.get(f"/v1/schemes/{uuid.uuid4()}"),
    "an unknown path": lambda api: api.admin.get("/nothing-here"),
    "a body too large": lambda api: api.admin.post(
        "/v1/schemes", content=b" " * 20_000, headers=JSON
    ),
    "a URL too long": lambda api: api.admin.get("/v1/relationships?cursor=" + "a" * 9000),
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_every_answer_carries_the_security_headers_and_no_banner(api: Api, answer: str) -> None:
    """And no answer under /v1, where personal data is, may be kept by a cache."""
    response = ANSWERS[answer](api)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert "server" not in response.headers
    personal = response.request.url.path.startswith("/v1/")
    assert (response.headers.get("cache-control") == "no-store") == personal


def test_docs_load_everything_from_the_service_itself(api: Api) -> None:
    page = api.admin.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', page.text))
    assert "https://" not in page.text and "http://" not in page.text
    for name, media_type in [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
    ]:
        assert f"/docs/assets/{name}" in page.text
        asset = api.admin.get(f"/docs/assets/{name}")
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(media_type)
        assert asset.content == (SWAGGER_UI / name).read_bytes()


def test_the_docs_policy_runs_the_pages_own_script_and_nothing_else(api: Api) -> None:
    page = api.admin.get("/docs")
    policy = page.headers["content-security-policy"]
    (script,) = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    digest = hashlib.sha256(script.encode()).digest()
    assert f"'sha256-{base64.b64encode(digest).decode()}'" in policy
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_redoc_is_not_served(api: Api) -> None:
    assert api.admin.get("/redoc").status_code == 404


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["type"].startswith("/problems/")
    assert problem["title"] and problem["detail"]


def deep(depth: int) -> bytes:
    """A scheme whose cohorts are arrays nested `depth` deep."""
    return b'{"name": "x", "matching_model": "assigned", "cohorts": %s}' % (
        b"[" * depth + b"]" * depth
    )


BAD_BODIES = {
    "malformed JSON": (b'{"name": "x",', 422),
    "JSON cut short": (b'{"name": "x", "matching_model": "assig', 422),
    "a lone bracket": (b"]", 422),
    "10,000 nested arrays": (b"[" * 10_000, 400),
    "10,000 nested objects": (b'{"a":' * 3000, 400),
    "400 nested arrays in a field": (deep(400), 400),
    "arrays one level too deep": (deep(MAX_JSON_DEPTH), 400),
}


@pytest.mark.parametrize("name", sorted(BAD_BODIES))
def test_json_a_parser_could_choke_on_is_a_problem_and_changes_nothing(api: Api, name: str) -> None:
    body, status = BAD_BODIES[name]
    before = api.count_events()
    assert_problem(api.admin.post("/v1/schemes", content=body, headers=JSON), status)
    assert api.count_events() == before


def test_json_as_deep_as_allowed_is_read_and_judged_as_usual(api: Api) -> None:
    """Brackets inside strings do not count; the body is read, and refused for what
    it says (cohorts are not arrays of arrays)."""
    body = deep(MAX_JSON_DEPTH - 1).replace(b'"x"', b'"' + b"[{" * 20 + b'\\"]"')
    response = api.admin.post("/v1/schemes", content=body, headers=JSON)
    assert_problem(response, 422)
    errors = response.json()["errors"]
    assert {tuple(e["loc"][:2]) for e in errors} == {("body", "cohorts")}, errors


def get_raw(api: Api, target: str) -> http.client.HTTPResponse:
    """GET a request target as it is, however long (httpx refuses URLs over 64 KiB)."""
    url = httpx.URL(api.base_url)
    assert url.port is not None
    connection = http.client.HTTPConnection(url.host, url.port, timeout=30)
    connection.request("GET", target, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize("size", [MAX_URL_BYTES + 1, 60_000])
def test_an_over_long_url_is_a_problem(api: Api, size: int) -> None:
    target = "/v1/relationships?cursor="
    response = get_raw(api, target + "a" * (size - len(target)))
    assert response.status == 414
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_url_longer_than_the_server_reads_is_refused_by_the_server(api: Api) -> None:
    """Past uvicorn's own limit on a request's head (httptools: about 64 KiB) the
    request never reaches the app: the server answers a plain 400, still a client
    error."""
    target = "/v1/relationships?cursor="
    assert get_raw(api, target + "a" * 100_000).status == 400


def test_a_url_at_the_limit_is_served(api: Api) -> None:
    target = "/v1/relationships?cursor="
    response = api.admin.get(target + "a" * (MAX_URL_BYTES - len(target)))
    assert_problem(response, 422)  # a cursor of nothing, judged as usual
