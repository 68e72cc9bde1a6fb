"""Single sign-on with OpenID Connect, end to end over real sockets: the service
served by uvicorn, a real provider (tests/support/oidc_provider.py) that signs
its ID tokens with its own key, and a visitor who follows every redirect by hand
as a browser would. Signing in works for staff and for mentors by their verified
email, and every tampered or stale attempt is refused with a page offering the
emailed link."""

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import RSAKey

from services.web.oidc import STATE_COOKIE
from services.web.oidc_pending import PENDING_LIFETIME
from services.web.visitor import SESSION_COOKIE
from tests.support.clock import Clock
from tests.support.oidc_provider import Provider, TokenAnswer, running_provider, s256
from tests.support.web import Site, path_of, serving_pages

CLIENT_ID = "mentoring-service"
CLIENT_SECRET = "the service's secret at the provider"
REFUSED = "Sign-in did not work"

_numbers = count()


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def site(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory, provider: Provider
) -> Iterator[Site]:
    with serving_pages(
        postgres_server,
        tmp_path_factory.mktemp("var"),
        MENTORING_OIDC_ISSUER=provider.issuer,
        MENTORING_OIDC_CLIENT_ID=CLIENT_ID,
        MENTORING_OIDC_CLIENT_SECRET=CLIENT_SECRET,
    ) as site:
        yield site


def a_coordinator(site: Site, provider: Provider, **claims: object) -> tuple[str, str]:
    """A coordinator with a staff account, known to the provider as `sub` with their
    email and `claims` (a verified email unless they say otherwise): (sub, email)."""
    scheme = site.api.scheme()["id"]
    email = f"sso{next(_numbers)}@example.nhs.uk"
    body = {"name": "Dr Single", "email": email, "role": "coordinator", "scheme_ids": [scheme]}
    site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    sub = f"subject-{next(_numbers)}"
    provider.set_user(sub, **({"email": email, "email_verified": True} | claims))
    return sub, email


def begin(visitor: httpx.Client, next_path: str = "/") -> str:
    """Press "Sign in with your organisation's account": the provider's URL."""
    started = visitor.get("/sign-in/oidc", params={"next": next_path})
    assert started.status_code == 303, started.text
    return str(started.headers["location"])


def return_to_service(visitor: httpx.Client, callback_url: str) -> httpx.Response:
    return visitor.get(path_of(callback_url))


def sign_in(site: Site, provider: Provider, sub: str, next_path: str = "/") -> httpx.Response:
    """The whole way, as `sub`: the service's answer to the provider's callback."""
    visitor = site.visitor()
    callback = provider.sign_in(begin(visitor, next_path), sub)
    answer = return_to_service(visitor, callback)
    answer.extensions["visitor"] = visitor
    return answer


def with_param(url: str, name: str, value: str) -> str:
    return str(httpx.URL(url).copy_set_param(name, value))


def assert_refused(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert REFUSED in answer.text and 'href="/sign-in"' in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_a_coordinator_signs_in_with_their_organisations_account_and_lands_on_next(
    site: Site, provider: Provider
) -> None:
    sub, _ = a_coordinator(site, provider)
    page = site.visitor().get("/sign-in", params={"next": "/reports?scheme=1"})
    assert "Sign in with your organisation's account" in page.text
    assert 'href="/sign-in/oidc?next=%2Freports%3Fscheme%3D1"' in page.text

    answer = sign_in(site, provider, sub, "/reports?scheme=1")

    assert answer.status_code == 303 and answer.headers["location"] == "/reports?scheme=1"
    visitor: httpx.Client = answer.extensions["visitor"]
    landing = visitor.get("/")
    assert landing.status_code == 200 and "Dr Single" in landing.text
    assert site.api.runtime.oidc_sign_ins is not None
    assert site.api.runtime.oidc_sign_ins.count() == 0, "the attempt is deleted once used"


def test_the_session_cookie_is_http_only_and_same_site_lax(site: Site, provider: Provider) -> None:
    sub, _ = a_coordinator(site, provider)
    visitor = site.visitor()
    started = visitor.get("/sign-in/oidc")
    state_cookie = started.headers["set-cookie"]
    assert state_cookie.startswith(f"{STATE_COOKIE}=")
    assert "HttpOnly" in state_cookie and "SameSite=lax" in state_cookie
    assert "Path=/sign-in/oidc" in state_cookie and "Max-Age=600" in state_cookie

    answer = return_to_service(visitor, provider.sign_in(started.headers["location"], sub))

    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    # Plain http on localhost: no TLS to ask for (cookie_is_secure).
    assert "Secure" not in session
    assert any(c.startswith(f'{STATE_COOKIE}=""') for c in cookies), "the state cookie is dropped"


def test_the_service_sends_a_pkce_s256_challenge_and_its_verifier_with_the_secret(
    site: Site, provider: Provider
) -> None:
    sub, _ = a_coordinator(site, provider)
    visitor = site.visitor()
    url = httpx.URL(begin(visitor))
    asked = dict(url.params)
    assert asked["code_challenge_method"] == "S256"
    assert asked["client_id"] == CLIENT_ID and asked["response_type"] == "code"
    assert set(asked["scope"].split()) >= {"openid", "email"}
    assert asked["redirect_uri"] == f"{site.base_url}/sign-in/oidc/callback"
    assert len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32

    answer = return_to_service(visitor, provider.sign_in(str(url), sub))

    assert answer.status_code == 303
    exchange = provider.window.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code"
    assert 43 <= len(exchange["code_verifier"]) <= 128
    assert s256(exchange["code_verifier"]) == asked["code_challenge"]
    basic = httpx.BasicAuth(CLIENT_ID, CLIENT_SECRET)
    expected = next(basic.auth_flow(httpx.Request("POST", "http://x"))).headers["Authorization"]
    assert provider.window.token_credentials[-1] == expected


def test_a_mentor_signs_in_as_the_person_whose_profile_has_the_verified_email(
    site: Site, provider: Provider
) -> None:
    scheme = site.api.scheme()["id"]
    email = f"mentor-sso{next(_numbers)}@example.nhs.uk"
    site.api.mentor(scheme, name="Dr Mentor Sso", email=email)
    provider.set_user("a-mentor", email=email, email_verified=True)

    answer = sign_in(site, provider, "a-mentor")

    assert answer.status_code == 303 and answer.headers["location"] == "/"
    landing = answer.extensions["visitor"].get("/")
    assert "Dr Mentor Sso" in landing.text and "Mentor" in landing.text


def test_entras_domain_owner_verified_claim_counts_when_email_verified_is_absent(
    site: Site, provider: Provider
) -> None:
    scheme = site.api.scheme()["id"]
    body = {"name": "Dr Entra", "email": "entra@example.nhs.uk", "role": "coordinator"}
    site.api.ok(site.api.admin.post("/v1/staff", json=body | {"scheme_ids": [scheme]}), 201)
    provider.set_user("entra", email="entra@example.nhs.uk", xms_edov=True)
    provider.set_user("entra-unverified", email="entra@example.nhs.uk", xms_edov=False)

    assert sign_in(site, provider, "entra").status_code == 303
    assert_refused(sign_in(site, provider, "entra-unverified"), 403)


def test_an_email_with_no_account_gets_the_cannot_sign_in_page(
    site: Site, provider: Provider
) -> None:
    provider.set_user("stranger", email="stranger@example.org", email_verified=True)

    answer = sign_in(site, provider, "stranger")

    assert answer.status_code == 403 and "We cannot sign you in" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_an_unverified_email_is_refused_and_the_log_names_no_one(
    site: Site, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    sub, email = a_coordinator(site, provider, email_verified=False)
    provider.set_user(f"{sub}-silent", email=email)  # no claim about it at all

    with caplog.at_level(logging.WARNING, logger="mentoring.web"):
        assert_refused(sign_in(site, provider, sub), 403)
        assert_refused(sign_in(site, provider, f"{sub}-silent"), 403)

    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("mentoring", "uvicorn"))]
    assert ours == refusals(caplog)
    assert ours == ["single sign-on refused: the ID token has no verified email"] * 2


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The service's log lines of refused attempts."""
    return [r.getMessage() for r in caplog.records if r.name == "mentoring.web"]


def test_a_token_issued_to_another_client_is_refused(
    site: Site, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    sub, _ = a_coordinator(site, provider)
    visitor = site.visitor()
    url = httpx.URL(begin(visitor))
    # A real token of the provider's, with this attempt's nonce, for someone else.
    other = provider.token_for("another-service", sub, url.params["nonce"])
    provider.window.rewrite_next_token_answer = lambda _: other

    answer = return_to_service(visitor, provider.sign_in(str(url), sub))

    assert_refused(answer, 403)
    assert refusals(caplog)[-1].endswith("(invalid_claim aud)")


def test_a_token_signed_with_another_key_is_refused(
    site: Site, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    sub, _ = a_coordinator(site, provider)
    forger = RSAKey.generate_key(2048)

    def resign(answer: TokenAnswer) -> TokenAnswer:
        issued = jws.extract_compact(answer["id_token"].encode())
        claims = json.loads(issued.payload)
        forged = jwt.encode(dict(issued.headers()), claims, forger)
        return answer | {"id_token": forged}

    provider.window.rewrite_next_token_answer = resign
    assert_refused(sign_in(site, provider, sub), 403)
    assert refusals(caplog)[-1].endswith("(bad_signature)")


def test_a_token_for_another_nonce_is_refused(
    site: Site, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    sub, _ = a_coordinator(site, provider)
    visitor = site.visitor()
    url = with_param(begin(visitor), "nonce", "a nonce of someone else's attempt")

    assert_refused(return_to_service(visitor, provider.sign_in(url, sub)), 403)
    assert refusals(caplog)[-1].endswith("(invalid_claim nonce)")


def test_a_replayed_state_is_refused(site: Site, provider: Provider) -> None:
    sub, _ = a_coordinator(site, provider)
    visitor = site.visitor()
    callback = provider.sign_in(begin(visitor), sub)
    state = visitor.cookies.get(STATE_COOKIE)
    assert state and return_to_service(visitor, callback).status_code == 303

    replay = site.visitor()
    replay.cookies.set(STATE_COOKIE, state, path="/sign-in/oidc")

    assert_refused(return_to_service(replay, callback), 400)


def test_an_unknown_state_is_refused(site: Site) -> None:
    visitor = site.visitor()
    visitor.cookies.set(STATE_COOKIE, "made-up", path="/sign-in/oidc")

    answer = visitor.get("/sign-in/oidc/callback", params={"state": "made-up", "code": "x"})

    assert_refused(answer, 400)
    for state in ("", "é" * 40, "x" * 5000):
        answer = visitor.get("/sign-in/oidc/callback", params={"state": state, "code": "x"})
        assert_refused(answer, 400)


def test_a_state_from_another_browser_is_refused_and_not_spent(
    site: Site, provider: Provider
) -> None:
    sub, _ = a_coordinator(site, provider)
    visitor = site.visitor()
    callback = provider.sign_in(begin(visitor), sub)

    assert_refused(return_to_service(site.visitor(), callback), 400)
    assert return_to_service(visitor, callback).status_code == 303


def test_an_attempt_older_than_ten_minutes_is_refused(site: Site, provider: Provider) -> None:
    sub, _ = a_coordinator(site, provider)
    pending = site.api.runtime.oidc_sign_ins
    assert pending is not None
    clock = Clock(datetime.now(UTC))
    pending.clock = clock
    try:
        visitor = site.visitor()
        callback = provider.sign_in(begin(visitor), sub)
        clock.now += PENDING_LIFETIME
        assert_refused(return_to_service(visitor, callback), 400)
    finally:
        pending.clock = lambda: datetime.now(UTC)


def test_a_refusal_at_the_provider_is_refused_here_too(site: Site, provider: Provider) -> None:
    visitor = site.visitor()
    url = httpx.URL(begin(visitor))
    callback = provider.deny(str(url))
    assert "error=access_denied" in callback
    # The mock leaves the state out of its refusal: with none, the attempt is not
    # this browser's; with it, as providers send it, the provider's error counts.
    assert_refused(return_to_service(visitor, callback), 400)

    answer = return_to_service(visitor, with_param(callback, "state", url.params["state"]))

    assert_refused(answer, 403)


def test_a_code_the_provider_does_not_know_is_refused(site: Site, provider: Provider) -> None:
    sub, _ = a_coordinator(site, provider)
    visitor = site.visitor()
    callback = with_param(provider.sign_in(begin(visitor), sub), "code", "not-a-code")

    assert_refused(return_to_service(visitor, callback), 403)
