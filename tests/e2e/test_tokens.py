"""Tokens with a life cycle, over a real socket: an admin issues a token for a
fixed time, lists tokens without their secrets, and revokes one at once (and in
another process within a second); a client address guessing tokens is throttled
while everyone else carries on.

The API here throttles at the default, 20 failed authentications a minute. Each
test that guesses comes from a loopback address of its own (127.0.0.x), so the
others are not throttled by it.
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services import bootstrap
from services.api.app import create_app
from services.auth import TRUSTED_FOR, hash_token
from services.config import Settings
from tests.e2e.client import ADMIN_TOKEN, Api
from tests.e2e.conftest import serving

LISTED_FIELDS = {
    "id",
    "role",
    "label",
    "subject_id",
    "scheme_ids",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "status",
}


@pytest.fixture(scope="module")
def api(postgres_server: str) -> Iterator[Api]:
    with serving(postgres_server) as api:
        yield api


def issue(api: Api, **body: Any) -> dict[str, Any]:
    return api.ok(api.admin.post("/v1/tokens", json={"role": "admin", "label": "ops"} | body), 201)


def listed(api: Api, token_id: str) -> dict[str, Any]:
    """The token as GET /v1/tokens lists it."""
    (token,) = [t for t in api.ok_list(api.admin.get("/v1/tokens")) if t["id"] == token_id]
    return token


def from_address(api: Api, address: str, token: str) -> httpx.Client:
    """A client whose connections come from `address` (on the loopback network)."""
    return httpx.Client(
        base_url=api.base_url,
        headers={"Authorization": f"Bearer {token}"},
        transport=httpx.HTTPTransport(local_address=address),
        timeout=30,
    )


def test_a_token_lives_ninety_days_unless_asked_otherwise(api: Api) -> None:
    before = datetime.now(UTC)
    default = issue(api, role="reporter", label="board papers")
    assert default.keys() == {"id", "token", "expires_at", "role", "label"}
    assert (default["role"], default["label"]) == ("reporter", "board papers")
    expires_at = datetime.fromisoformat(default["expires_at"])
    assert before + timedelta(days=90) <= expires_at <= datetime.now(UTC) + timedelta(days=90)
    week = issue(api, expires_in="P1W")
    assert datetime.fromisoformat(week["expires_at"]) <= datetime.now(UTC) + timedelta(days=7)
    longest = issue(api, expires_in="P365D")
    assert datetime.fromisoformat(longest["expires_at"]) > datetime.now(UTC) + timedelta(days=364)


@pytest.mark.parametrize("expires_in", ["P366D", "P53W", "P1Y", "P1M", "PT0S", "soon", 90])
def test_a_lifetime_that_is_not_a_duration_of_at_most_a_year_is_refused(
    api: Api, expires_in: object
) -> None:
    tokens = api.runtime.tokens.count()
    response = api.admin.post(
        "/v1/tokens", json={"role": "auditor", "label": "x", "expires_in": expires_in}
    )
    assert response.status_code == 422, response.text
    assert ["body", "expires_in"] in [error["loc"][:2] for error in response.json()["errors"]]
    assert api.runtime.tokens.count() == tokens


def test_a_token_stops_working_when_it_expires(api: Api) -> None:
    issued = issue(api, expires_in="PT2S")
    client = api.as_(issued["token"])
    assert client.get("/v1/tokens").status_code == 200
    left = datetime.fromisoformat(issued["expires_at"]) - datetime.now(UTC)
    time.sleep(max(0.0, left.total_seconds()) + 0.2)
    refused = client.get("/v1/tokens")
    assert refused.status_code == 401, refused.text
    assert refused.headers["www-authenticate"] == "Bearer"
    assert listed(api, issued["id"])["status"] == "expired"


def test_the_list_names_each_token_and_its_use_but_never_its_secret(api: Api) -> None:
    scheme = api.scheme()["id"]
    mentor = api.mentor(scheme)["id"]
    coordinator = issue(api, role="coordinator", label="Leeds office", scheme_ids=[scheme])
    person = issue(api, role="mentor", label="Dr Rao", subject_id=mentor, expires_in="P30D")

    answer = api.admin.get("/v1/tokens")
    for secret in (coordinator["token"], person["token"]):
        assert secret not in answer.text and hash_token(secret) not in answer.text
    listing = {token["id"]: token for token in api.ok_list(answer)}
    assert all(token.keys() == LISTED_FIELDS for token in listing.values())
    seen = listing[coordinator["id"]]
    assert (seen["role"], seen["label"], seen["scheme_ids"]) == (
        "coordinator",
        "Leeds office",
        [scheme],
    )
    assert (seen["subject_id"], seen["status"], seen["revoked_at"]) == (None, "active", None)
    assert seen["expires_at"] == coordinator["expires_at"]
    assert listing[person["id"]]["subject_id"] == mentor
    assert list(listing) == sorted(listing, key=lambda i: listing[i]["created_at"])

    assert seen["last_used_at"] is None
    api.ok(api.as_(coordinator["token"]).get(f"/v1/schemes/{scheme}"))
    used = datetime.fromisoformat(listed(api, coordinator["id"])["last_used_at"])
    assert datetime.now(UTC) - used < timedelta(minutes=1)


def test_a_revoked_token_is_refused_from_the_next_request_on(api: Api) -> None:
    issued = issue(api, role="auditor", label="governance review")
    client = api.as_(issued["token"])
    assert client.get("/v1/reports/audit/verify").status_code == 200

    revoked = api.admin.delete(f"/v1/tokens/{issued['id']}")
    assert (revoked.status_code, revoked.content) == (204, b"")
    refused = client.get("/v1/reports/audit/verify")
    assert refused.status_code == 401, refused.text
    token = listed(api, issued["id"])
    assert token["status"] == "revoked" and token["revoked_at"] is not None
    again = api.admin.delete(f"/v1/tokens/{issued['id']}")
    assert again.status_code == 204
    assert listed(api, issued["id"])["revoked_at"] == token["revoked_at"]


def test_a_token_revoked_by_another_process_is_refused_within_a_second(api: Api) -> None:
    settings = Settings.from_env(
        {"MENTORING_DATABASE_URL": api.runtime.database_url, "MENTORING_ADMIN_TOKEN": ADMIN_TOKEN}
    )
    elsewhere = bootstrap.build_runtime(settings)
    try:
        issued = issue(api, role="auditor", label="read elsewhere")
        with TestClient(create_app(elsewhere)) as other:
            other.headers["Authorization"] = f"Bearer {issued['token']}"
            assert other.get("/v1/reports/audit/verify").status_code == 200
            revoked_at = time.monotonic()
            assert api.admin.delete(f"/v1/tokens/{issued['id']}").status_code == 204
            time.sleep(max(0.0, revoked_at + TRUSTED_FOR.total_seconds() - time.monotonic()))
            refused = other.get("/v1/reports/audit/verify")
            assert refused.status_code == 401, refused.text
    finally:
        elsewhere.close()


def test_revoking_a_token_that_was_never_issued_is_not_found(api: Api) -> None:
    unknown = api.admin.delete("/v1/tokens/00000000-0000-0000-0000-000000000009")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert api.admin.delete("/v1/tokens/bootstrap").status_code == 422


def test_an_address_guessing_tokens_is_throttled_while_others_carry_on(api: Api) -> None:
    report = f"/v1/reports/evaluation?scheme_id={api.scheme()['id']}"
    valid = issue(api, role="reporter", label="dashboard")["token"]
    guesser = "127.0.0.3"
    for attempt in range(20):
        with from_address(api, guesser, f"mtk_guess-{attempt}") as client:
            assert client.get(report).status_code == 401, attempt

    with from_address(api, guesser, "mtk_guess-21") as client:
        throttled = client.get(report)
    assert throttled.status_code == 429, throttled.text
    assert throttled.headers["content-type"].startswith("application/problem+json")
    assert throttled.json()["status"] == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    # The guesser cannot learn that a token is right: it is not even looked up.
    with from_address(api, guesser, valid) as client:
        assert client.get(report).status_code == 429
    # Everyone else carries on: the admin on 127.0.0.1, the same token elsewhere.
    assert api.admin.get("/v1/tokens").status_code == 200
    with from_address(api, "127.0.0.4", valid) as client:
        assert client.get(report).status_code == 200
