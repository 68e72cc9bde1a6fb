"""A mentee and a mentor, each in a browser of their own on a phone-wide screen,
take a relationship from the request to the first meeting, a no-blame ending and a
rematch, each time from the link in the email they were sent; every page they see
passes axe-core (WCAG 2.2 AA) and fits 360 px.

The served site does not run the mail sender, so the test runs its rounds itself,
as `mentoring up` would between the steps: the invitation, match and rematch mails
are written as .eml files under the site's var/mail."""

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

from services.mail.sender import Sender
from services.mail.transport import transport_from
from tests.browser.checks import (
    assert_fit_for_everyone,
    save_screenshot,
    sign_in,
    watch_for_problems,
)
from tests.browser.conftest import NARROW
from tests.e2e.client import TODAY
from tests.support.web import Site, link_in, notices_to, path_of

MENTEE = "mentee.browser@example.nhs.uk"
MENTOR = "mentor.browser@example.nhs.uk"


@pytest.fixture
def sender(site: Site) -> Sender:
    runtime = site.api.runtime
    sender = Sender(
        runtime.mentoring,
        runtime.pool,
        runtime.staff,
        transport_from(runtime.settings),
        mail_from=runtime.settings.mail_from,
        public_url=runtime.settings.public_url,
    )
    sender.create_tables()
    return sender


@pytest.fixture
def second_phone(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=site.base_url,
        viewport=ViewportSize(width=NARROW["width"], height=NARROW["height"]),
    )
    yield context
    context.close()


def mail_after_round(site: Site, sender: Sender, email: str, subject: str) -> EmailMessage:
    """The newest message to `email` whose subject has `subject`, once the sender's
    round has sent what is due."""
    sender.round()
    found = [m for m in notices_to(site, email) if subject in str(m["Subject"])]
    assert found, f"no mail about {subject!r} to {email}"
    return found[-1]


def notice_link(message: EmailMessage, label: str) -> str:
    """The link after `label` in the message's plain text (a sign-in link to a page)."""
    body = message.get_body(("plain",))
    assert body is not None
    for line in body.get_content().splitlines():
        if line.startswith(label):
            return str(line.removeprefix(label).strip())
    raise AssertionError(f"no {label!r} in the message")


def follow(site: Site, context: BrowserContext, email: str, link: str) -> Page:
    """Sign in from a notice's link the way a person does: the link opens the sign-in
    page for the notice's page; the emailed sign-in link then lands there."""
    page = context.new_page()
    page.goto(path_of(link))
    already = len(site.mail_to(email))
    page.fill("#email", email)
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_load_state()
    page.goto(path_of(link_in(site.wait_for_mail(email, already))))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def checked(page: Page) -> Page:
    assert_fit_for_everyone(page)
    return page


def test_a_mentee_and_a_mentor_go_from_request_to_first_meeting_to_a_no_blame_end_and_a_rematch(
    site: Site, narrow: BrowserContext, second_phone: BrowserContext, sender: Sender
) -> None:
    api = site.api
    scheme = api.scheme(name="Browser scheme", matching_model="mentee_choice")
    mentor = api.mentor(scheme["id"], name="Dr Mentor Browser", email=MENTOR)
    api.mentee(scheme["id"], name="Dr Mentee Browser", email=MENTEE)
    api.mentor(scheme["id"], name="Dr Second Mentor", email="second.mentor@example.nhs.uk")

    # The mentee asks for a mentor and invites one from the directory.
    mentee_page = sign_in(site, narrow, MENTEE, "/my")
    problems = watch_for_problems(mentee_page)
    checked(mentee_page).get_by_role("button", name="Ask for a mentor").click()
    mentee_page.get_by_role("link", name="Choose a mentor from the directory").click()
    checked(mentee_page).get_by_role("button", name=f"Invite {mentor['name']}").click()
    assert "A mentor has been invited" in checked(mentee_page).content()

    # The mentor accepts from the invitation's "accept" link.
    invitation = mail_after_round(site, sender, MENTOR, "invited to mentor")
    mentor_page = follow(
        site, second_phone, MENTOR, notice_link(invitation, "Accept the invitation:")
    )
    mentor_problems = watch_for_problems(mentor_page)
    assert mentor_page.locator("#answer").is_checked()
    checked(mentor_page).get_by_role("button", name="Send your answer").click()
    assert "Your mentoring with Dr Mentee Browser" in checked(mentor_page).content()

    # The mentee, from the match mail, records the first meeting.
    match = mail_after_round(site, sender, MENTEE, "matched")
    mentee_page = follow(site, narrow, MENTEE, notice_link(match, "Open your relationship:"))
    relationship_path = mentee_page.url.removeprefix(site.base_url)
    checked(mentee_page)
    save_screenshot(mentee_page, "my-relationship")
    mentee_page.fill("#held_on", TODAY)
    mentee_page.get_by_label("Video call").check()
    mentee_page.fill("#duration_minutes", "60")
    mentee_page.get_by_role("button", name="Record the meeting").click()
    assert "1 (1 hours in all" in checked(mentee_page).content()
    mentee_page.fill("#meeting_frequency", "every 6 to 8 weeks")
    mentee_page.get_by_label("Ground rules and boundaries").check()
    mentee_page.get_by_label("Confidentiality").check()
    mentee_page.get_by_role("button", name="Record the agreement").click()
    assert "In place: meet every 6 to 8 weeks" in checked(mentee_page).content()

    # Asked privately whether it works; then the mentee ends it without blame.
    mentee_page.get_by_label("No", exact=True).check()
    mentee_page.get_by_role("button", name="Send your answer").click()
    assert "Only you and the scheme" in checked(mentee_page).content()
    mentor_page.goto(relationship_path)
    assert "Is this pairing working for you?" in checked(mentor_page).content()
    mentee_page.get_by_role("button", name="End without blame").click()
    assert "Ended, no blame" in checked(mentee_page).content()
    mentor_page.reload()
    assert "Ended, no blame" in checked(mentor_page).content()

    # The mentee asks for a new mentor; the coordinator rematches; the mail leads on.
    mentee_page.get_by_role("button", name="Ask for a new mentor").click()
    assert "You have asked the scheme" in checked(mentee_page).content()
    relationship_id = relationship_path.rsplit("/", 1)[-1]
    api.ok(api.admin.post(f"/v1/relationships/{relationship_id}/rematch"), 201)
    rematch = mail_after_round(site, sender, MENTEE, "new mentor")
    mentee_page = follow(site, narrow, MENTEE, notice_link(rematch, "See your request:"))
    assert "Your request for a mentor" in checked(mentee_page).content()

    mentee_page.goto("/my")
    assert "Before" in checked(mentee_page).content()
    save_screenshot(mentee_page, "my-home")
    mentee_page.goto("/my/profile")
    checked(mentee_page)
    mentor_page.goto("/my/profile")
    checked(mentor_page).get_by_label("No, pause taking new mentees").check()
    mentor_page.get_by_role("button", name="Save").click()
    assert checked(mentor_page).locator("#available-no").is_checked()
    mentor_page.goto("/my/record")
    record = checked(mentor_page).content()
    assert "Hours of meetings" in record and "In place" in record
    save_screenshot(mentor_page, "my-record")
    assert problems == [] and mentor_problems == []


def test_a_mentee_opening_another_mentees_relationship_page_is_refused(
    site: Site, narrow: BrowserContext
) -> None:
    api = site.api
    scheme = api.scheme(name="Refusal scheme", matching_model="mentee_choice")
    relationship, _, _ = api.matched_pair(scheme["id"])
    api.mentee(scheme["id"], name="Dr Someone Else", email="someone.else@example.nhs.uk")
    page = sign_in(site, narrow, "someone.else@example.nhs.uk", "/my")
    answer = page.goto(f"/my/relationships/{relationship['id']}")
    assert answer is not None and answer.status == 404
    assert "Page not found" in checked(page).content()


def test_without_javascript_a_mentee_asks_and_sees_the_suggested_mentors(
    site: Site, without_javascript: BrowserContext
) -> None:
    """Plain form posts only. (axe cannot run without JavaScript; the same pages are
    checked above.)"""
    api = site.api
    scheme = api.scheme(name="Hybrid scheme", matching_model="hybrid")
    api.mentor(scheme["id"], name="Dr Suggested Mentor", email="suggested@example.nhs.uk")
    api.mentee(scheme["id"], name="Dr Plain Mentee", email="plain.mentee@example.nhs.uk")
    page = sign_in(site, without_javascript, "plain.mentee@example.nhs.uk", "/my")
    page.get_by_role("button", name="Ask for a mentor").click()
    page.get_by_role("link", name="See the mentors suggested for you").click()
    assert "Why we suggest them" in page.content()
    page.get_by_role("button", name="Pick Dr Suggested Mentor").click()
    assert "A mentor has been invited" in page.content()
