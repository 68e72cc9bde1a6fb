"""Answering a survey round in a real browser: a mentee who never met their mentor
answers through the form (signed in from the link the way a person is), the form
says thank you and takes no second answer, someone the round does not ask is
refused, a closed round says so, and the evaluation counts the answers. Every page
is accessible (axe, WCAG 2.2 AA) and fits a 360 px screen; the form works without
JavaScript."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.checks import (
    assert_fit_for_everyone,
    save_screenshot,
    sign_in,
    watch_for_problems,
)
from tests.support.web import Site

TODAY = datetime.now(UTC).date()
SURVEY = [
    {"id": "benefited", "text": "Has mentoring been of benefit to you?", "kind": "yes_no",
     "audience": "mentee", "stages": ["review"]},
    {"id": "good_relationship", "text": "I developed a good relationship with my mentor",
     "kind": "likert5", "audience": "mentee", "stages": ["review"]},
]  # fmt: skip


@pytest.fixture
def review(site: Site) -> Iterator[dict[str, Any]]:
    """A scheme's 2026 cohort: one mentee met their mentor, one never did; a 2027
    mentee is not asked. A review round of the 2026 mentees, open today."""
    api = site.api
    scheme = api.scheme(
        name="Academy mentoring",
        cohorts=[{"name": "2026", "eligible_count": 2}, {"name": "2027", "eligible_count": 1}],
        survey=SURVEY,
    )["id"]
    people: dict[str, Any] = {"scheme": scheme}
    for name in ("met", "never_met"):
        email = f"survey.{name}@example.nhs.uk"
        mentee = api.mentee(scheme, name=f"Dr {name.title()}", email=email)
        mentor = api.mentor(scheme, email=f"survey.mentor.{name}@example.nhs.uk")
        path = f"/v1/relationships/{api.request(scheme, mentee['id'])['id']}"
        api.ok(api.admin.post(f"{path}/invite", json={"mentor_id": mentor["id"]}))
        api.ok(api.admin.post(f"{path}/respond", json={"accept": True}))
        if name == "met":
            meeting = {"held_on": TODAY.isoformat(), "mode": "video", "duration_minutes": 45}
            api.ok(api.admin.post(f"{path}/meetings", json=meeting), 201)
        people[name] = email
    people["next_year"] = "survey.next.year@example.nhs.uk"
    api.mentee(scheme, cohort="2027", email=people["next_year"])
    body = {
        "name": "Review 2026",
        "stage": "review",
        "cohort": "2026",
        "audience": "mentee",
        "opens_on": TODAY.isoformat(),
        "closes_on": (TODAY + timedelta(days=14)).isoformat(),
    }
    survey_round = api.ok(api.admin.post(f"/v1/schemes/{scheme}/survey-rounds", json=body), 201)
    people["path"] = f"/surveys/{survey_round['id']}"
    people["round"] = survey_round["id"]
    rounds = api.runtime.mentoring.survey_rounds
    today = rounds.today
    yield people
    rounds.today = today


def test_a_mentee_who_never_met_their_mentor_answers_through_the_form(
    site: Site, narrow: BrowserContext, review: dict[str, Any]
) -> None:
    page = sign_in(site, narrow, review["never_met"], review["path"])
    problems = watch_for_problems(page)
    assert page.get_by_role("heading", name="Review 2026").is_visible()
    assert_fit_for_everyone(page)
    save_screenshot(page, "survey-form")

    page.get_by_role("button", name="Send my answers").click()  # nothing chosen
    page.wait_for_selector(".nhsuk-error-summary")
    assert page.title().startswith("Error: ")
    assert_fit_for_everyone(page)

    page.get_by_role("group", name="Has mentoring been of benefit to you?").get_by_label(
        "No"
    ).check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_selector("text=Thank you for your answers")
    assert_fit_for_everyone(page)
    save_screenshot(page, "survey-thank-you")

    page.goto(review["path"])  # a second visit: no second answer
    assert page.get_by_role("heading", name="Thank you for your answers").is_visible()
    assert problems == []

    counts = site.api.ok(site.api.admin.get(f"/v1/survey-rounds/{review['round']}"))
    assert (counts["invited"], counts["responded"]) == (2, 1)


def answer_without_javascript(page: Page) -> None:
    page.get_by_role("group", name="Has mentoring been of benefit to you?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("group", name="I developed a good relationship with my mentor").get_by_label(
        "5"
    ).check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_selector("text=Thank you for your answers")


def test_the_form_works_without_javascript_and_the_evaluation_counts_it(
    site: Site, without_javascript: BrowserContext, review: dict[str, Any]
) -> None:
    page = sign_in(site, without_javascript, review["met"], review["path"])
    answer_without_javascript(page)
    page = sign_in(site, without_javascript, review["never_met"], review["path"])
    page.get_by_role("group", name="Has mentoring been of benefit to you?").get_by_label(
        "No"
    ).check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_selector("text=Thank you for your answers")

    report = site.api.report("/v1/reports/evaluation", scheme_id=review["scheme"], cohort="2026")
    found = {
        m["metric"]: (m["numerator"], m["denominator"])
        for m in report["metrics"]
        if m["stage"] == "review"
    }
    assert found == {"survey:benefited": (1, 2), "survey:good_relationship": (1, 1)}
    split = {
        (m["metric"], m["met_mentor"]): (m["numerator"], m["denominator"])
        for m in report["survey_by_met_mentor"]
    }
    assert split["survey:benefited", True] == (1, 1)
    assert split["survey:benefited", False] == (0, 1)


def test_someone_not_asked_is_refused_and_a_closed_round_says_so(
    site: Site, narrow: BrowserContext, review: dict[str, Any]
) -> None:
    page = sign_in(site, narrow, review["next_year"], review["path"])
    assert page.get_by_role("heading", name="This survey is not for you").is_visible()
    assert_fit_for_everyone(page)

    site.api.runtime.mentoring.survey_rounds.today = lambda: TODAY + timedelta(days=15)
    page = sign_in(site, narrow, review["met"], review["path"])
    assert page.get_by_role("heading", name="This survey has closed").is_visible()
    assert_fit_for_everyone(page)
    save_screenshot(page, "survey-closed")
