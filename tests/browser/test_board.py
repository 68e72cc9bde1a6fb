"""The coordinator's board in a real browser, on the service with a real Temporal dev
server, worker and relay: a stalled pair appears on the queue once its timer fires,
the coordinator opens it and invites a ranked candidate, and runs and confirms a
cohort match; people in the scheme and other schemes' coordinators are kept out.
Every page is checked with axe and at 360 px; the main ones are photographed."""

import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import BrowserContext, Page

from services.bootstrap import worker_and_relay
from tests.browser.checks import (
    assert_fit_for_everyone,
    save_screenshot,
    sign_in,
    watch_for_problems,
)
from tests.support.web import Site, serving_pages
from tests.workflows.support import dev_server
from workflows.devserver import DevServer

_numbers = count()
STALL_WITHIN = 90.0
CATCH_UP_WITHIN = 60.0


@pytest.fixture(scope="module")
def temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server(tmp_path_factory.mktemp("temporal")) as server:
        yield server


@pytest.fixture(scope="module")
def site(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory, temporal: DevServer
) -> Iterator[Site]:
    """The pages, with the worker and relay beside them so that timers fire."""
    var_dir: Path = tmp_path_factory.mktemp("var")
    with serving_pages(
        postgres_server, var_dir, MENTORING_TEMPORAL_ADDRESS=temporal.address
    ) as site:
        background = worker_and_relay(site.api.runtime.settings)
        background.start()
        try:
            yield site
        finally:
            background.stop()


def email() -> str:
    return f"board-browser{next(_numbers)}@example.nhs.uk"


def a_coordinator(site: Site, scheme: str) -> str:
    address = email()
    body = {
        "name": "Dr Coordinator",
        "email": address,
        "role": "coordinator",
        "scheme_ids": [scheme],
    }
    site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    return address


def a_request(site: Site, scheme: str, name: str) -> tuple[str, str]:
    """(relationship id, the mentee's email)."""
    address = email()
    mentee = site.api.mentee(scheme, name=name, email=address)
    return str(site.api.request(scheme, mentee["id"])["id"]), address


def test_a_stalled_pair_appears_and_the_coordinator_invites_a_ranked_candidate(
    site: Site, narrow: BrowserContext
) -> None:
    scheme = str(site.api.scheme(name="Stalling scheme", timers={"match_within": "PT2S"})["id"])
    site.api.mentor(scheme, name="Dr Ranked Mentor", email=email())
    relationship, _ = a_request(site, scheme, "Dr Waiting Mentee")
    page = sign_in(site, narrow, a_coordinator(site, scheme), f"/schemes/{scheme}")
    problems = watch_for_problems(page)

    row = page.locator(f'tr[data-relationship="{relationship}"]')
    deadline = time.monotonic() + STALL_WITHIN
    while not row.is_visible():
        assert time.monotonic() < deadline, "the stalled pair did not appear on the queue"
        time.sleep(0.5)
        page.reload()
    assert "No mentor found in time" in row.inner_text()
    assert_fit_for_everyone(page)
    save_screenshot(page, "board-dashboard")

    row.get_by_role("link", name="Dr Waiting Mentee").click()
    page.wait_for_url(f"**/pairs/{relationship}")
    assert page.get_by_role("heading", name="Next deadlines").is_visible()
    assert page.locator("#deadlines-unavailable").count() == 0
    assert "Stalled: no mentor found in time" in page.locator("#timeline").inner_text()
    assert_fit_for_everyone(page)
    save_screenshot(page, "board-pair")

    page.get_by_label("Dr Ranked Mentor (score", exact=False).check()
    page.get_by_role("button", name="Invite this mentor").click()
    page.wait_for_selector(".nhsuk-notification-banner--success")
    assert "The mentor has been invited" in page.inner_text(".nhsuk-notification-banner")
    assert page.inner_text("#state") == "Mentor invited"
    assert_fit_for_everyone(page)
    assert problems == [], problems


def test_a_coordinator_runs_and_confirms_a_cohort_match(site: Site, narrow: BrowserContext) -> None:
    scheme = str(site.api.scheme(name="Matching scheme")["id"])
    for name in ("Dr First Mentor", "Dr Second Mentor"):
        site.api.mentor(scheme, name=name, email=email())
    requests = [a_request(site, scheme, name)[0] for name in ("Dr Mentee A", "Dr Mentee B")]
    page = sign_in(site, narrow, a_coordinator(site, scheme), f"/schemes/{scheme}/matching")
    problems = watch_for_problems(page)

    page.select_option("#cohort", "2026")
    page.get_by_role("button", name="Propose matches").click()
    page.wait_for_url("**/matching?cohort=2026")
    proposals = page.locator('input[name="pair"]')
    assert proposals.count() == 2
    assert_fit_for_everyone(page)
    save_screenshot(page, "board-matching")

    page.get_by_role("button", name="Send these invitations").click()
    page.wait_for_selector("#done")
    assert page.inner_text("#done") == "2 invitations sent"
    assert_fit_for_everyone(page)
    mentoring = site.api.runtime.mentoring
    assert {mentoring.get_relationship(UUID(r)).state for r in requests} == {"mentor_invited"}
    assert problems == [], problems


def opened(page: Page, path: str) -> int:
    answer = page.goto(path)
    assert answer is not None
    return answer.status


def test_a_mentee_cannot_open_a_coordinator_page(site: Site, narrow: BrowserContext) -> None:
    scheme = str(site.api.scheme(name="Kept scheme")["id"])
    relationship, mentee_email = a_request(site, scheme, "Dr Kept Out")

    mentee = sign_in(site, narrow, mentee_email, "/")
    assert opened(mentee, f"/schemes/{scheme}") == 403
    assert mentee.get_by_role("heading", name="You cannot do this").is_visible()
    assert_fit_for_everyone(mentee)
    assert opened(mentee, f"/pairs/{relationship}") == 403
    assert opened(mentee, "/schemes") == 403


def test_a_coordinator_cannot_open_another_schemes_pages(
    site: Site, narrow: BrowserContext
) -> None:
    scheme = str(site.api.scheme(name="Guarded scheme")["id"])
    other = str(site.api.scheme(name="Their own scheme")["id"])
    relationship, _ = a_request(site, scheme, "Dr Guarded")

    coordinator = sign_in(site, narrow, a_coordinator(site, other), "/schemes")
    own = coordinator.get_by_role("link", name="Their own scheme")
    deadline = time.monotonic() + CATCH_UP_WITHIN
    while not own.is_visible():  # the list is read from the reports, which may lag
        assert time.monotonic() < deadline, "the coordinator's scheme is not listed"
        time.sleep(0.5)
        coordinator.reload()
    assert coordinator.get_by_role("link", name="Guarded scheme").count() == 0
    assert_fit_for_everyone(coordinator)
    for path in (f"/schemes/{scheme}", f"/schemes/{scheme}/matching", f"/pairs/{relationship}"):
        assert opened(coordinator, path) == 404, path
    assert coordinator.get_by_role("heading", name="Page not found").is_visible()
    assert_fit_for_everyone(coordinator)
