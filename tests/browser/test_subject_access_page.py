"""The subject access pages in a real browser: a mentee signed in reads everything
held about them at /my/data, accessible (axe, WCAG 2.2 AA) and fitting a 360 px
screen, with and without JavaScript, and downloads it as JSON; an admin reads
anyone's; another mentee is told there is nothing to see."""

from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.checks import (
    assert_fit_for_everyone,
    save_screenshot,
    sign_in,
    watch_for_problems,
)
from tests.e2e.client import TODAY
from tests.support.web import Site

MENTOR_EMAIL = "page.mentor@example.nhs.uk"


@dataclass(frozen=True)
class Pair:
    mentee_id: str
    mentee_email: str
    relationship_id: str


@pytest.fixture(scope="module")
def pair(site: Site) -> Pair:
    """A mentee matched with a mentor, met once, with the mentor's pause for sickness."""
    api = site.api
    scheme_id = api.scheme()["id"]
    mentor_id = api.mentor(scheme_id, email=MENTOR_EMAIL, name="Dr Page Mentor")["id"]
    email = "page.mentee@example.nhs.uk"
    mentee_id = api.mentee(scheme_id, email=email, demographics={"sex": "Female"})["id"]
    relationship_id = api.request(scheme_id, mentee_id)["id"]
    path = f"/v1/relationships/{relationship_id}"
    api.ok(api.admin.post(f"{path}/invite", json={"mentor_id": mentor_id}))
    api.ok(api.admin.post(f"{path}/respond", json={"accept": True}))
    meeting = {"held_on": TODAY, "mode": "video", "duration_minutes": 45}
    api.ok(api.admin.post(f"{path}/meetings", json=meeting), 201)
    mentor = api.as_(api.token("mentor", subject_id=mentor_id))
    api.ok(mentor.post(f"{path}/pause", json={"reason_category": "sickness"}))
    return Pair(mentee_id, email, relationship_id)


def test_a_mentee_reads_their_data_and_downloads_it(
    site: Site, narrow: BrowserContext, pair: Pair
) -> None:
    page = sign_in(site, narrow, pair.mentee_email, "/my/data")
    problems = watch_for_problems(page)
    page.reload()

    assert page.get_by_role("heading", name="Your data", exact=True).is_visible()
    for heading in ("Profile", "Mentoring relationships", "Messages sent"):
        assert page.get_by_role("heading", name=heading).is_visible()
    text = page.inner_text("main")
    assert pair.mentee_email in text and "Female" in text and "MeetingLogged" in text
    assert MENTOR_EMAIL not in text and "Dr Page Mentor" not in text and "sickness" not in text
    assert "left out, as it is about someone else: reason category" in text
    assert_fit_for_everyone(page)
    save_screenshot(page, "subject-access-my-data")
    assert problems == []

    download = narrow.request.get(
        page.get_by_role("link", name="Download as JSON").get_attribute("href") or ""
    )
    assert download.ok and download.headers["content-type"] == "application/json"
    assert "attachment" in download.headers["content-disposition"]
    export = download.json()
    assert export["person"] == {"role": "mentee", "id": pair.mentee_id}
    assert MENTOR_EMAIL not in download.text()
    reads = [a for a in export["access_log"] if a["record_type"] == "subject_access_export"]
    assert [a["route"] for a in reads][-2:] == ["/my/data", "/my/data.json"]


def test_the_page_works_without_javascript(
    site: Site, without_javascript: BrowserContext, pair: Pair
) -> None:
    page = sign_in(site, without_javascript, pair.mentee_email, "/my/data")

    assert page.get_by_role("heading", name="Your data", exact=True).is_visible()
    assert pair.mentee_email in page.inner_text("main")
    link = page.get_by_role("link", name="Download as JSON")
    assert link.get_attribute("href") == "/my/data.json"


def test_an_admin_reads_a_persons_data_and_another_mentee_cannot(
    site: Site, narrow: BrowserContext, pair: Pair
) -> None:
    api = site.api
    admin_email = "page.admin@example.nhs.uk"
    api.ok(
        api.admin.post(
            "/v1/staff", json={"name": "Dr Admin", "email": admin_email, "role": "admin"}
        ),
        201,
    )
    page = sign_in(site, narrow, admin_email, f"/people/{pair.mentee_id}/data")

    assert page.get_by_role("heading", name="Data held about this mentee").is_visible()
    assert pair.mentee_email in page.inner_text("main")
    assert_fit_for_everyone(page)

    scheme_id = api.ok(api.admin.get(f"/v1/mentees/{pair.mentee_id}"))["scheme_id"]
    other_email = "page.other@example.nhs.uk"
    api.mentee(scheme_id, email=other_email)
    other = sign_in(site, narrow, other_email, f"/people/{pair.mentee_id}/data")
    assert other.get_by_role("heading", name="Page not found").is_visible()
    assert pair.mentee_email not in other.content()
    assert_fit_for_everyone(other)
