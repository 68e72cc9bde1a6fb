"""A survey round from start to end in a real browser: a coordinator opens a review
round of a cohort of four mentees (two met their mentor, one was matched but never
met, one was never matched); each is emailed a link to the form; three answer
through it, signed in from the link in their own email, and one who answers twice
is told they already have; the coordinator's reports page counts each question over
the answers given, split by whether the respondent met their mentor; once the round
has closed the form says so and takes no answer. Every page passes axe-core (WCAG
2.2 AA) and fits 360 px.

The served site runs neither the Temporal worker nor the mail sender. The round's
invitation is put in the outbox the way SurveyRoundWorkflow does when the round
opens: its `read_survey_round` activity gives the round's schedule, and the shared
`notify` activity records the OPENED notice, both called directly (the workflow's
timers are tested in tests/workflows/test_survey_round_mail.py). The test then runs
the sender's rounds itself, as tests/browser/test_own_pages.py does, so the emails
are written as .eml files under the site's var/mail."""

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, FloatRect, Page, ViewportSize

from services.mail.sender import Sender
from services.mail.transport import transport_from
from tests.browser.checks import (
    SCREENSHOTS,
    assert_fit_for_everyone,
    sign_in,
    watch_for_problems,
)
from tests.browser.conftest import NARROW
from tests.browser.test_own_pages import follow, notice_link
from tests.support.web import Site, notices_to
from workflows.activities import RelationshipActivities
from workflows.model import Notice
from workflows.outbox import Outbox
from workflows.survey_round_activities import SurveyRoundActivities
from workflows.survey_round_model import OPENED

TODAY = datetime.now(UTC).date()
BENEFITED = "Has mentoring been of benefit to you?"
RELATIONSHIP = "I developed a good relationship with my mentor"
SURVEY = [
    {"id": "benefited", "text": BENEFITED, "kind": "yes_no", "audience": "mentee",
     "stages": ["review"]},
    {"id": "good_relationship", "text": RELATIONSHIP, "kind": "likert5", "audience": "mentee",
     "stages": ["review"]},
    {"id": "at_the_end", "text": "Would you recommend the scheme?", "kind": "yes_no",
     "audience": "mentee", "stages": ["end"]},
]  # fmt: skip
COHORT = ("met", "met_too", "never_met", "never_matched")
SUBJECT = "please answer the survey Cohort review 2026"


def email_of(name: str) -> str:
    return f"round.{name}@example.nhs.uk"


@pytest.fixture
def cohort(site: Site) -> Iterator[dict[str, Any]]:
    """The scheme, its coordinator (signed in by email) and its 2026 cohort: two
    mentees met their mentor, one was matched and never met, one asked for a mentor
    and was never matched. The round's `today` is put back afterwards."""
    api = site.api
    scheme = api.scheme(
        name="Foundation mentoring",
        cohorts=[{"name": "2026", "eligible_count": 4}],
        survey=SURVEY,
    )["id"]
    for name in COHORT:
        mentee = api.mentee(
            scheme, name=f"Dr {name.replace('_', ' ').title()}", email=email_of(name)
        )
        pair = f"/v1/relationships/{api.request(scheme, mentee['id'])['id']}"
        if name == "never_matched":
            continue
        mentor = api.mentor(scheme, name=f"Dr Mentor {name}", email=email_of(f"mentor.{name}"))
        api.ok(api.admin.post(f"{pair}/invite", json={"mentor_id": mentor["id"]}))
        api.ok(api.admin.post(f"{pair}/respond", json={"accept": True}))
        if name.startswith("met"):
            meeting = {"held_on": TODAY.isoformat(), "mode": "in_person", "duration_minutes": 60}
            api.ok(api.admin.post(f"{pair}/meetings", json=meeting), 201)
    coordinator = email_of("coordinator")
    staff = {"name": "Dr Coordinator", "email": coordinator, "role": "coordinator",
             "scheme_ids": [scheme]}  # fmt: skip
    api.ok(api.admin.post("/v1/staff", json=staff), 201)
    rounds = api.runtime.mentoring.survey_rounds
    today = rounds.today
    yield {"scheme": scheme, "coordinator": coordinator,
           "token": api.token("coordinator", scheme_ids=[scheme])}  # fmt: skip
    rounds.today = today


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
def phone(browser: Browser, site: Site) -> Iterator[Callable[[], BrowserContext]]:
    """A new phone-wide browser with JavaScript for each person who asks for one."""
    contexts: list[BrowserContext] = []

    def new() -> BrowserContext:
        viewport = ViewportSize(width=NARROW["width"], height=NARROW["height"])
        contexts.append(browser.new_context(base_url=site.base_url, viewport=viewport))
        return contexts[-1]

    yield new
    for context in contexts:
        context.close()


def open_round(site: Site, token: str, scheme: str) -> str:
    """The coordinator opens the round over the API (no page opens one yet), and the
    OPENED notice is recorded as SurveyRoundWorkflow records it (module docstring)."""
    body = {
        "name": "Cohort review 2026",
        "stage": "review",
        "cohort": "2026",
        "audience": "mentee",
        "opens_on": TODAY.isoformat(),
        "closes_on": (TODAY + timedelta(days=14)).isoformat(),
    }
    coordinator = site.api.as_(token)
    round_id = str(
        site.api.ok(coordinator.post(f"/v1/schemes/{scheme}/survey-rounds", json=body), 201)["id"]
    )
    runtime = site.api.runtime
    schedule = SurveyRoundActivities(runtime.mentoring.survey_rounds.get).read_survey_round(
        round_id
    )
    notify = RelationshipActivities(runtime.mentoring, Outbox(runtime.pool)).notify
    assert notify(Notice(schedule.round_id, schedule.audience, OPENED, OPENED)) is True
    return round_id


def survey_mail(site: Site, email: str) -> EmailMessage:
    found = [m for m in notices_to(site, email) if SUBJECT in str(m["Subject"])]
    assert len(found) == 1, f"{len(found)} invitations to {email}"
    return found[0]


def choose(page: Page, question: str, answer: str) -> None:
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def send(page: Page) -> None:
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state()


def survey_row(page: Page, table: str, label: str) -> str:
    row = page.get_by_role("table", name=table).get_by_role("row").filter(has_text=label)
    return row.inner_text()


def reports_when_caught_up(page: Page, heading: str, seconds: float = 60.0) -> None:
    """Wait for the reports page headed `heading`, trying again while it says the
    reports are catching up (503: the projections are behind, as on a busy machine)."""
    deadline = time.monotonic() + seconds
    while not page.get_by_role("heading", name=heading).is_visible():
        assert page.get_by_text("The reports are catching up").is_visible(), page.url
        assert time.monotonic() < deadline, "the reports did not catch up"
        page.wait_for_timeout(500)
        page.reload()


def save_part(page: Page, top: str, bottom: str, name: str) -> None:
    """A picture of the page from the element `top` to the end of `bottom`, as
    docs/screenshots/<name>.png (checks.save_screenshot takes the whole page)."""
    start, end = page.locator(top).bounding_box(), page.locator(bottom).bounding_box()
    assert start is not None and end is not None
    scrolled = page.evaluate("() => window.scrollY")
    clip = FloatRect(
        x=0,
        y=start["y"] + scrolled - 8,
        width=NARROW["width"],
        height=end["y"] + end["height"] - start["y"] + 16,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True, clip=clip)


def test_a_cohort_answers_a_round_whether_or_not_they_met_and_the_report_counts_it(
    site: Site,
    cohort: dict[str, Any],
    sender: Sender,
    phone: Callable[[], BrowserContext],
) -> None:
    round_id = open_round(site, cohort["token"], cohort["scheme"])
    form_path = f"/surveys/{round_id}"
    sender.round()
    links = {
        name: notice_link(survey_mail(site, email_of(name)), "Answer the survey:")
        for name in COHORT
    }
    assert all(form_path.replace("/", "%2F") in link for link in links.values())
    assert not any(SUBJECT in str(m["Subject"]) for m in notices_to(site, email_of("mentor.met")))

    # The mentee who was never matched answers from the link in their email.
    page = follow(site, phone(), email_of("never_matched"), links["never_matched"])
    problems = watch_for_problems(page)
    assert page.get_by_role("heading", name="Cohort review 2026").is_visible()
    assert not page.get_by_text("Would you recommend the scheme?").is_visible()  # end stage
    assert_fit_for_everyone(page)
    choose(page, BENEFITED, "No")
    send(page)
    assert page.get_by_role("heading", name="Thank you for your answers").is_visible()
    assert_fit_for_everyone(page)
    assert problems == []

    # The mentee matched but never met answers both questions.
    page = follow(site, phone(), email_of("never_met"), links["never_met"])
    choose(page, BENEFITED, "No")
    choose(page, RELATIONSHIP, "2")
    send(page)
    assert page.get_by_role("heading", name="Thank you for your answers").is_visible()

    # A mentee who met their mentor has the form open twice and sends it from both.
    first = follow(site, phone(), email_of("met"), links["met"])
    second = first.context.new_page()
    second.goto(form_path)
    for page in (first, second):
        choose(page, BENEFITED, "Yes")
        choose(page, RELATIONSHIP, "5")
    send(first)
    assert first.get_by_role("heading", name="Thank you for your answers").is_visible()
    send(second)
    assert second.get_by_role("heading", name="Thank you for your answers").is_visible()
    assert second.get_by_text("We have your answers to Cohort review 2026.").is_visible()
    assert_fit_for_everyone(second)

    # The other mentee who met theirs opens the form, but sends it only after the close.
    late = follow(site, phone(), email_of("met_too"), links["met_too"])
    choose(late, BENEFITED, "Yes")

    counts = site.api.ok(site.api.as_(cohort["token"]).get(f"/v1/survey-rounds/{round_id}"))
    assert (counts["invited"], counts["responded"]) == (4, 3)

    reports = sign_in(
        site, phone(), cohort["coordinator"], f"/schemes/{cohort['scheme']}/reports?cohort=2026"
    )
    reports_when_caught_up(reports, "Reports: 2026")
    problems = watch_for_problems(reports)
    numbers = "Survey results: the numbers"
    assert "33% (1 of 3)" in survey_row(reports, numbers, f"{BENEFITED} (mentees, review)")
    assert "50% (1 of 2)" in survey_row(reports, numbers, f"{RELATIONSHIP} (mentees, review)")
    split = "Survey results of 2026 by whether they met their mentor"
    benefited = survey_row(reports, split, BENEFITED).split("\n")
    assert any("100% (1 of 1)" in cell for cell in benefited)
    assert any("0% (0 of 2)" in cell for cell in benefited)
    relationship = survey_row(reports, split, RELATIONSHIP)
    assert "100% (1 of 1)" in relationship and "0% (0 of 1)" in relationship
    assert_fit_for_everyone(reports)
    save_part(reports, "#survey", "#survey-by-met-table", "reports-survey-by-met")
    assert problems == []

    # The round closes: the answer sent now is refused, and the form says why.
    site.api.runtime.mentoring.survey_rounds.today = lambda: TODAY + timedelta(days=15)
    send(late)
    assert late.get_by_role("heading", name="This survey has closed").is_visible()
    assert_fit_for_everyone(late)
    late.goto(form_path)
    assert late.get_by_role("heading", name="This survey has closed").is_visible()
    counts = site.api.ok(site.api.as_(cohort["token"]).get(f"/v1/survey-rounds/{round_id}"))
    assert (counts["invited"], counts["responded"]) == (4, 3)
