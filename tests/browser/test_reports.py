"""The report and governance pages in a real browser, after the scripted scheme: a
coordinator opens the reports and downloads a report's CSV, an auditor opens the
governance page and a pair's audit trail; every page accessible (axe, WCAG 2.2 AA),
fitting a 360 px screen, with no script error or CSP violation."""

from itertools import count
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.checks import (
    assert_fit_for_everyone,
    save_screenshot,
    sign_in,
    watch_for_problems,
)
from tests.support.clock import Clock
from tests.support.mentoring import mentoring
from tests.support.scripted_scheme import ScriptedScheme, play
from tests.support.web import Site

_numbers = count()


@pytest.fixture(scope="module")
def script(site: Site) -> ScriptedScheme:
    with mentoring(site.api.runtime.database_url) as app:
        return play(app, Clock())


def staff(site: Site, role: str, scheme_ids: list[str] | None = None) -> str:
    email = f"reports-{role}{next(_numbers)}@example.nhs.uk"
    body: dict[str, object] = {"name": f"Dr {role.title()}", "email": email, "role": role}
    if scheme_ids:
        body["scheme_ids"] = scheme_ids
    site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    return email


def test_a_coordinator_reads_the_reports_and_downloads_a_report(
    site: Site, narrow: BrowserContext, script: ScriptedScheme
) -> None:
    scheme = str(script.scheme_id)
    email = staff(site, "coordinator", [scheme])
    page = sign_in(site, narrow, email, f"/schemes/{scheme}/reports")
    problems = watch_for_problems(page)
    page.get_by_role("heading", name="Reports: 2025").wait_for()
    assert page.get_by_role("img", name="Rates against targets").is_visible()
    assert page.get_by_role("img", name="Survey results: positive answers").is_visible()
    assert page.get_by_role("table", name="Rates against targets: the numbers").is_visible()
    assert_fit_for_everyone(page)
    save_screenshot(page, "reports")

    page.select_option("#cohort", "2024")
    page.get_by_role("button", name="Show this cohort").click()
    page.get_by_role("heading", name="Reports: 2024").wait_for()
    assert_fit_for_everyone(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Evaluation of 2024 (CSV)").click()
    saved = Path(download.value.path())
    token = site.api.as_(site.api.token("coordinator", scheme_ids=[scheme]))
    served = token.get(
        "/v1/reports/evaluation",
        params={"scheme_id": scheme, "cohort": "2024"},
        headers={"Accept": "text/csv"},
    )
    assert saved.read_bytes() == served.content
    assert download.value.suggested_filename == "evaluation.csv"
    assert problems == []


def test_an_auditor_opens_the_governance_page_and_a_pairs_audit_trail(
    site: Site, narrow: BrowserContext, script: ScriptedScheme
) -> None:
    scheme = str(script.scheme_id)
    page = sign_in(site, narrow, staff(site, "auditor"), f"/schemes/{scheme}/governance")
    problems = watch_for_problems(page)
    page.get_by_role("heading", name="Governance roles over time").wait_for()
    assert page.get_by_text("Coordinator One").first.is_visible()
    assert page.locator("#verification").get_by_text("Intact", exact=True).is_visible()
    assert_fit_for_everyone(page)
    save_screenshot(page, "governance")

    page.get_by_role("link", name="The audit trail of this scheme, or of one of its pairs").click()
    page.get_by_role("heading", level=1, name="Audit trail").wait_for()
    assert_fit_for_everyone(page)
    page.fill("#pair", "not an id")
    page.get_by_role("button", name="Show the trail").click()
    page.wait_for_selector(".nhsuk-error-summary")
    assert_fit_for_everyone(page)

    page.fill("#pair", str(script.relationships["ben"]))
    page.get_by_role("button", name="Show the trail").click()
    page.get_by_role("heading", level=1, name="Audit trail of a pair").wait_for()
    assert page.locator("#audit-trail").get_by_text("workload").first.is_visible()
    assert_fit_for_everyone(page)
    save_screenshot(page, "audit-trail")

    page.get_by_role("link", name="Who read this pair's record").click()
    page.get_by_role("heading", name="Who read whose record").wait_for()
    assert_fit_for_everyone(page)
    assert problems == []


def test_the_reports_work_without_javascript(
    site: Site, without_javascript: BrowserContext, script: ScriptedScheme
) -> None:
    scheme = str(script.scheme_id)
    email = staff(site, "reporter")
    page = sign_in(site, without_javascript, email, f"/schemes/{scheme}/reports")
    page.get_by_role("heading", name="Reports: 2025").wait_for()
    page.select_option("#cohort", "")
    page.get_by_role("button", name="Show this cohort").click()
    page.get_by_role("heading", name="Reports: all cohorts").wait_for()
    assert page.get_by_role("img", name="Time to match and to the first meeting").is_visible()
