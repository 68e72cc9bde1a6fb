"""Signing in to the pages by emailed link, over a real socket: the link arrives as
an `.eml` under var/mail, works once for fifteen minutes, and the session it starts
obeys sign-out, its idle timeout, its lifetime and the account's deactivation."""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from services.web.identity import Identity
from services.web.people import PeopleByEmail, PersonKind
from services.web.throttling import SignInRequests
from services.web.visitor import SESSION_COOKIE
from tests.support.clock import Clock
from tests.support.web import (
    Site,
    ask_for_link,
    follow_link,
    hidden_fields,
    path_of,
    serving_pages,
    signed_in_visitor,
)


@pytest.fixture(scope="module")
def site(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serving_pages(postgres_server, tmp_path_factory.mktemp("var")) as site:
        yield site


@pytest.fixture
def clock(site: Site) -> Iterator[Clock]:
    """The sessions' and links' clock, set by the test; the wall clock again after."""
    runtime = site.api.runtime
    clock = Clock(datetime.now(UTC))
    runtime.sessions.clock = runtime.sign_in_links.clock = clock
    yield clock
    runtime.sessions.clock = runtime.sign_in_links.clock = lambda: datetime.now(UTC)


_count = iter(range(1_000_000))


def coordinator(site: Site, active: bool = True) -> tuple[str, str]:
    """A new coordinator of a new scheme, added through the API: (id, email)."""
    scheme = site.api.scheme()["id"]
    email = f"coordinator{next(_count)}@example.nhs.uk"
    body = {"name": "Dr Coordinator", "email": email, "role": "coordinator", "scheme_ids": [scheme]}
    account = site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    return account["id"], email


def landing_of(client: httpx.Client) -> httpx.Response:
    return client.get("/")


def test_a_coordinator_added_through_the_api_signs_in_from_the_emailed_link(site: Site) -> None:
    account_id, email = coordinator(site)
    client = site.visitor()
    link = ask_for_link(site, client, email)
    message = site.mail_to(email)[-1]

    pressed = follow_link(client, link)

    assert pressed.status_code == 303 and pressed.headers["location"] == "/"
    landing = landing_of(client)
    assert landing.status_code == 200
    assert "Dr Coordinator" in landing.text and "Coordinator" in landing.text
    assert message["Subject"] == "Your link to sign in to Mentoring scheme"
    assert re.fullmatch(r"<sign-in-[0-9a-f-]{36}@localhost>", message["Message-ID"])
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    assert link in html.get_content() and "15 minutes" in text.get_content()
    assert "did not ask" in text.get_content()
    assert site.api.runtime.sessions.live(UUID(account_id)) == 1


def test_the_session_cookie_is_http_only_and_same_site_lax(site: Site) -> None:
    _, email = coordinator(site)
    client = site.visitor()
    pressed = follow_link(client, ask_for_link(site, client, email))
    cookie = pressed.headers["set-cookie"].lower()
    assert cookie.startswith(SESSION_COOKIE)
    assert "httponly" in cookie and "samesite=lax" in cookie
    # Plain http on localhost: the one place a session cookie is not Secure.
    assert "secure" not in cookie


def test_a_mentor_signs_in_as_the_person_whose_profile_has_the_email(site: Site) -> None:
    scheme = site.api.scheme()["id"]
    email = f"mentor{next(_count)}@example.nhs.uk"
    site.api.mentor(scheme, name="Dr Mentor Who", email=email)
    client = signed_in_visitor(site, email)
    landing = landing_of(client)
    assert "Dr Mentor Who" in landing.text and "Mentor" in landing.text


def test_an_unknown_email_gets_the_same_answer_and_no_mail(site: Site) -> None:
    _, known = coordinator(site)
    unknown = f"nobody{next(_count)}@example.nhs.uk"
    answers = []
    for email in (known, unknown):
        client = site.visitor()
        form = client.get("/sign-in")
        answer = client.post("/sign-in", data={"email": email, **hidden_fields(form.text)})
        answers.append((answer.status_code, answer.text.replace(email, "EMAIL")))
    assert answers[0] == answers[1]
    site.wait_for_mail(known, 0)
    assert site.mail_to(unknown) == []


def test_a_link_works_once(site: Site) -> None:
    _, email = coordinator(site)
    client = site.visitor()
    link = ask_for_link(site, client, email)
    assert follow_link(client, link).status_code == 303

    again = site.visitor()
    reopened = again.get(path_of(link))
    assert reopened.status_code == 410 and "Ask for a new link" in reopened.text
    form = again.get("/sign-in")
    token = link.rsplit("token=", 1)[1]
    pressed = again.post("/sign-in/link", data={"token": token, **hidden_fields(form.text)})
    assert pressed.status_code == 410 and SESSION_COOKIE not in pressed.cookies


def test_opening_a_link_without_pressing_its_button_leaves_it_usable(site: Site) -> None:
    """A mail scanner that fetches the link does not use it up."""
    _, email = coordinator(site)
    client = site.visitor()
    link = ask_for_link(site, client, email)
    assert httpx.get(site.base_url + path_of(link)).status_code == 200
    assert follow_link(client, link).status_code == 303


def test_a_link_expires_after_fifteen_minutes(site: Site, clock: Clock) -> None:
    _, email = coordinator(site)
    client = site.visitor()
    link = ask_for_link(site, client, email)
    opened = client.get(path_of(link))
    clock.now += timedelta(minutes=15, seconds=1)

    pressed = client.post("/sign-in/link", data=hidden_fields(opened.text))

    assert pressed.status_code == 410 and "run out of time" in pressed.text
    assert client.get(path_of(link)).status_code == 410


def test_a_link_still_works_just_before_fifteen_minutes(site: Site, clock: Clock) -> None:
    _, email = coordinator(site)
    client = site.visitor()
    link = ask_for_link(site, client, email)
    clock.now += timedelta(minutes=14, seconds=50)
    assert follow_link(client, link).status_code == 303


def test_a_form_posted_without_its_token_is_refused_and_changes_nothing(site: Site) -> None:
    account_id, email = coordinator(site)
    client = signed_in_visitor(site, email)
    runtime = site.api.runtime
    before = runtime.sessions.live(UUID(account_id))
    for data in ({}, {"csrf_token": "not-the-token"}):
        refused = client.post("/sign-out", data=data)
        assert refused.status_code == 403 and "Nothing was changed" in refused.text
    assert runtime.sessions.live(UUID(account_id)) == before == 1
    assert landing_of(client).status_code == 200


def test_a_sign_in_form_posted_from_elsewhere_sends_nothing(site: Site) -> None:
    _, email = coordinator(site)
    # Another site's form: no form cookie, no token.
    refused = httpx.post(site.base_url + "/sign-in", data={"email": email})
    assert refused.status_code == 403
    assert site.mail_to(email) == []


def test_sign_out_ends_the_session_on_the_server(site: Site) -> None:
    _, email = coordinator(site)
    client = signed_in_visitor(site, email)
    secret = client.cookies[SESSION_COOKIE]
    landing = landing_of(client)

    signed_out = client.post("/sign-out", data=hidden_fields(landing.text))

    assert signed_out.status_code == 200 and "You have signed out" in signed_out.text
    # The old cookie, presented again, opens nothing.
    replay = site.visitor()
    replay.cookies.set(SESSION_COOKIE, secret)
    assert landing_of(replay).status_code == 303


def test_deactivating_an_account_ends_its_session_at_once(site: Site) -> None:
    account_id, email = coordinator(site)
    client = signed_in_visitor(site, email)
    assert landing_of(client).status_code == 200

    changed = site.api.admin.patch(f"/v1/staff/{account_id}", json={"active": False})

    assert changed.status_code == 200 and changed.json()["active"] is False
    assert site.api.runtime.sessions.live(UUID(account_id)) == 0
    assert landing_of(client).status_code == 303
    # Reactivated, the old session stays ended; a deactivated account gets no link.
    site.api.admin.patch(f"/v1/staff/{account_id}", json={"active": True})
    assert landing_of(client).status_code == 303


def test_a_deactivated_account_cannot_use_a_link_sent_before(site: Site) -> None:
    account_id, email = coordinator(site)
    client = site.visitor()
    link = ask_for_link(site, client, email)
    site.api.admin.patch(f"/v1/staff/{account_id}", json={"active": False})
    pressed = follow_link(client, link)
    assert pressed.status_code == 403 and "We cannot sign you in" in pressed.text


def test_a_session_ends_after_thirty_minutes_without_a_request(site: Site, clock: Clock) -> None:
    _, email = coordinator(site)
    client = signed_in_visitor(site, email)
    clock.now += timedelta(minutes=29)
    assert landing_of(client).status_code == 200  # and the idle time starts again
    clock.now += timedelta(minutes=29)
    assert landing_of(client).status_code == 200
    clock.now += timedelta(minutes=30, seconds=1)
    assert landing_of(client).status_code == 303


def test_a_busy_session_still_ends_twelve_hours_after_sign_in(site: Site, clock: Clock) -> None:
    _, email = coordinator(site)
    client = signed_in_visitor(site, email)
    for _ in range(11 * 3):
        clock.now += timedelta(minutes=20)
        assert landing_of(client).status_code == 200
    clock.now += timedelta(minutes=60, seconds=1)
    assert landing_of(client).status_code == 303


def test_a_page_needing_a_session_sends_to_sign_in_and_back(site: Site) -> None:
    _, email = coordinator(site)
    anonymous = site.visitor()
    sent = anonymous.get("/?tab=mine")
    assert sent.status_code == 303
    assert sent.headers["location"] == "/sign-in?next=%2F%3Ftab%3Dmine"
    client = site.visitor()
    pressed = follow_link(client, ask_for_link(site, client, email, "/?tab=mine"))
    assert pressed.headers["location"] == "/?tab=mine"


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "evil",
        "/\x00x",
        "javascript:x",
    ],
)
def test_next_never_leads_to_another_site(site: Site, next_path: str) -> None:
    _, email = coordinator(site)
    client = site.visitor()
    form = client.get("/sign-in", params={"next": next_path})
    assert 'name="next" value="/"' in form.text
    pressed = follow_link(client, ask_for_link(site, client, email, next_path))
    assert pressed.headers["location"] == "/"


def test_an_email_that_is_not_an_address_is_shown_beside_its_field(site: Site) -> None:
    client = site.visitor()
    form = client.get("/sign-in")
    answer = client.post("/sign-in", data={"email": "not an email", **hidden_fields(form.text)})
    assert answer.status_code == 422
    assert 'id="email-error"' in answer.text and 'href="#email"' in answer.text
    assert "<title>Error: Sign in" in answer.text


def test_links_are_throttled_per_address_and_per_email(site: Site) -> None:
    runtime = site.api.runtime
    now = [0.0]
    runtime.sign_in_requests = SignInRequests(per_address=5, per_email=2, clock=lambda: now[0])
    try:
        _, email = coordinator(site)
        client = site.visitor()
        form = hidden_fields(client.get("/sign-in").text)
        statuses = [
            client.post("/sign-in", data={"email": email, **form}).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        others = [
            client.post("/sign-in", data={"email": f"o{i}@example.org", **form}).status_code
            for i in range(4)
        ]
        assert others == [200, 200, 200, 429]  # five from this address in the minute
        now[0] += 61
        assert client.post("/sign-in", data={"email": email, **form}).status_code == 200
    finally:
        runtime.sign_in_requests = SignInRequests(per_address=10_000, per_email=10_000)


def test_the_bootstrap_admin_signs_in_by_the_link_up_prints(site: Site) -> None:
    url = site.api.runtime.bootstrap_sign_in_url()
    assert url.startswith(site.base_url + "/sign-in/link?token=")
    client = site.visitor()
    pressed = follow_link(client, url)
    assert pressed.status_code == 303
    landing = landing_of(client)
    assert "Bootstrap admin" in landing.text and "Admin" in landing.text
    assert site.visitor().get(path_of(url)).status_code == 410


def test_pages_carry_their_own_content_security_policy(site: Site) -> None:
    page = site.visitor().get("/sign-in")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text


class SlowPeople:
    """A directory of people that takes its time: the lookup a sign-in request must
    not wait for."""

    def __init__(self, people: PeopleByEmail, seconds: float) -> None:
        self.people, self.seconds = people, seconds

    def find(self, email: str) -> tuple[PersonKind, UUID] | None:
        time.sleep(self.seconds)
        return self.people.find(email)


def test_the_answer_does_not_wait_for_the_lookup_or_the_mail(site: Site) -> None:
    """So its timing cannot tell whether an email has an account."""
    scheme = site.api.scheme()["id"]
    known = f"mentee{next(_count)}@example.nhs.uk"
    site.api.mentee(scheme, email=known)
    runtime = site.api.runtime
    people = runtime.people_by_email
    runtime.people_by_email = SlowPeople(people, 2.0)  # type: ignore[assignment]
    try:
        for email in (known, f"nobody{next(_count)}@example.nhs.uk"):
            client = site.visitor()
            form = hidden_fields(client.get("/sign-in").text)
            started = time.monotonic()
            answer = client.post("/sign-in", data={"email": email, **form})
            assert answer.status_code == 200
            assert time.monotonic() - started < 1.0
        site.wait_for_mail(known, 0)
    finally:
        runtime.people_by_email = people


def test_sessions_and_links_long_over_are_deleted_as_new_ones_begin(
    site: Site, clock: Clock
) -> None:
    account_id, email = coordinator(site)
    signed_in_visitor(site, email)
    ask_for_link(site, site.visitor(), email)  # never used
    runtime = site.api.runtime

    def rows() -> tuple[int, int]:
        with runtime.pool.connection() as connection:
            sessions = connection.execute(
                "SELECT count(*) FROM web_sessions WHERE subject_id = %s", (UUID(account_id),)
            ).fetchone()
            links = connection.execute(
                "SELECT count(*) FROM web_sign_in_links WHERE email = %s", (email,)
            ).fetchone()
        assert sessions is not None and links is not None
        return sessions[0], links[0]

    assert rows() == (1, 2)
    clock.now += timedelta(days=31)
    signed_in_visitor(site, coordinator(site)[1])
    assert rows() == (0, 0)


def test_a_role_changed_through_the_api_applies_from_the_next_request(site: Site) -> None:
    account_id, email = coordinator(site)
    client = signed_in_visitor(site, email)
    assert "Coordinator" in landing_of(client).text

    site.api.ok(site.api.admin.patch(f"/v1/staff/{account_id}", json={"role": "auditor"}))

    assert "Auditor" in landing_of(client).text


def test_a_session_of_a_person_no_longer_found_ends_on_its_next_request(site: Site) -> None:
    nobody = uuid4()
    secret = site.api.runtime.sessions.start(Identity("mentee", nobody))
    client = site.visitor()
    client.cookies.set(SESSION_COOKIE, secret)

    assert landing_of(client).status_code == 303
    assert site.api.runtime.sessions.live(nobody) == 0
