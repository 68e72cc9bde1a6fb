"""A coordinator manages the scheme's people in a real browser: imports a CSV file
with one bad row (nothing imported, the error shown by row and column), then the
corrected file; adds a mentor and a mentee and changes them. Every page passes axe
(WCAG 2.2 AA) and fits a 360 px screen; the lists and the preview are saved as
screenshots."""

from itertools import count

from playwright.sync_api import BrowserContext, Page

from tests.browser.checks import (
    assert_fit_for_everyone,
    save_screenshot,
    sign_in,
    watch_for_problems,
)
from tests.support.web import Site

_numbers = count()
MENTORS = "name,email,grade,specialty,institution,interests,capacity,trained_on\n"
MENTEES = "cohort,name,email,grade,specialty,specialty_decided,institution\n"


def a_coordinator(site: Site) -> tuple[str, str]:
    """(scheme id, email) of a new scheme's coordinator."""
    scheme = site.api.scheme(name="North East Foundation Mentoring")["id"]
    email = f"people{next(_numbers)}@example.nhs.uk"
    body = {"name": "Dr Pat Lee", "email": email, "role": "coordinator", "scheme_ids": [scheme]}
    site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    return scheme, email


def choose_file(page: Page, text: str, kind: str) -> None:
    page.get_by_label("Mentors" if kind == "mentors" else "Mentees", exact=True).check()
    page.set_input_files(
        "#file", {"name": "people.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()


def test_a_coordinator_imports_a_file_with_a_bad_row_then_the_corrected_one(
    site: Site, narrow: BrowserContext
) -> None:
    scheme, email = a_coordinator(site)
    page = sign_in(site, narrow, email, f"/schemes/{scheme}/mentors")
    problems = watch_for_problems(page)
    assert page.get_by_role("heading", name="Mentors").is_visible()
    assert_fit_for_everyone(page)

    page.get_by_role("button", name="Import from CSV").click()
    page.wait_for_url("**/import?kind=mentors")
    assert_fit_for_everyone(page)

    n = next(_numbers)
    rows = [
        f"Dr Ada Shah,ada{n}@example.nhs.uk,consultant,cardiology,Leeds,research;teaching,2,",
        f"Dr Ben Ito,ben{n}@example.nhs.uk,ST6,surgery,York,,two,2025-06-01",
        f"Dr Cy Obi,cy{n}@example.nhs.uk,ST4,general practice,Hull,,1,",
    ]
    choose_file(page, MENTORS + "\n".join(rows) + "\n", "mentors")
    assert page.get_by_role("heading", name="Check the file").is_visible()
    assert page.get_by_text("Nothing has been imported").is_visible()
    error_row = page.locator("tbody tr").first
    assert "3" in error_row.locator("td").nth(0).inner_text()
    assert "capacity" in error_row.locator("td").nth(1).inner_text()
    assert page.get_by_role("button", name="Import").count() == 0
    assert_fit_for_everyone(page)
    save_screenshot(page, "people-import-errors")

    rows[1] = rows[1].replace(",two,", ",1,")
    choose_file(page, MENTORS + "\n".join(rows) + "\n", "mentors")
    assert page.get_by_role("heading", name="Check the import").is_visible()
    assert_fit_for_everyone(page)
    save_screenshot(page, "people-import-preview")
    page.get_by_role("button", name="Import 3 mentors").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Mentors imported").is_visible()
    assert page.get_by_text("3 added, 0 changed, 0 already up to date").is_visible()
    assert_fit_for_everyone(page)

    page.get_by_role("link", name="See the mentors").click()
    page.wait_for_load_state()
    for name in ("Dr Ada Shah", "Dr Ben Ito", "Dr Cy Obi"):
        assert page.get_by_role("link", name=name).is_visible()
    page.get_by_label("Specialty").select_option("surgery")
    page.get_by_role("button", name="Show mentors").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Dr Ben Ito").is_visible()
    assert page.get_by_role("link", name="Dr Ada Shah").count() == 0
    page.goto(f"/schemes/{scheme}/mentors")
    assert_fit_for_everyone(page)
    save_screenshot(page, "people-mentors")
    assert problems == [], problems


def test_a_coordinator_adds_and_changes_a_mentor_and_a_mentee(
    site: Site, narrow: BrowserContext
) -> None:
    scheme, email = a_coordinator(site)
    page = sign_in(site, narrow, email, f"/schemes/{scheme}/mentors/new")
    problems = watch_for_problems(page)
    assert_fit_for_everyone(page)

    page.get_by_role("button", name="Add mentor").click()
    page.wait_for_selector(".nhsuk-error-summary")
    assert page.title().startswith("Error: ")
    assert_fit_for_everyone(page)

    n = next(_numbers)
    page.get_by_label("Full name").fill("Dr Dan Moss")
    page.get_by_label("Email address").fill(f"dan{n}@example.nhs.uk")
    page.get_by_label("Grade").fill("consultant")
    page.get_by_label("Specialty").fill("renal medicine")
    page.get_by_label("Institution").fill("Sunderland Royal")
    page.get_by_label("How many mentees at once").fill("2")
    page.get_by_role("button", name="Add mentor").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Dr Dan Moss").is_visible()
    assert page.get_by_text("The person was added.").is_visible()
    assert_fit_for_everyone(page)

    page.get_by_label("How many mentees at once").fill("4")
    page.locator("#available-no").check()
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert page.get_by_text("Your changes were saved.").is_visible()
    assert page.get_by_text("0 of 4").is_visible()

    page.goto(f"/schemes/{scheme}/mentees/new")
    assert_fit_for_everyone(page)
    page.get_by_label("Cohort").select_option("2026")
    page.get_by_label("Full name").fill("Dr Eva Ng")
    page.get_by_label("Email address").fill(f"eva{n}@example.nhs.uk")
    page.get_by_label("Grade").fill("FY2")
    page.get_by_label("Specialty").fill("paediatrics")
    page.locator("#specialty_decided").check()
    page.get_by_label("Institution", exact=True).fill("James Cook")
    page.get_by_role("button", name="Add mentee").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Dr Eva Ng").is_visible()
    assert_fit_for_everyone(page)
    page.locator("#reminders-no").check()
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert page.get_by_text("Your changes were saved.").is_visible()

    page.goto(f"/schemes/{scheme}/mentees")
    assert page.get_by_role("link", name="Dr Eva Ng").is_visible()
    assert_fit_for_everyone(page)
    save_screenshot(page, "people-mentees")
    assert problems == [], problems


def test_the_import_works_without_javascript(
    site: Site, without_javascript: BrowserContext
) -> None:
    scheme, email = a_coordinator(site)
    page = sign_in(site, without_javascript, email, f"/schemes/{scheme}/import")
    n = next(_numbers)
    text = MENTEES + f"2026,Dr Gil Roe,gil{n}@example.nhs.uk,CT1,psychiatry,no,Durham\n"
    choose_file(page, text, "mentees")
    assert page.get_by_role("heading", name="Check the import").is_visible()
    page.get_by_role("button", name="Import 1 mentee").click()
    page.wait_for_load_state()
    assert page.get_by_text("1 added, 0 changed, 0 already up to date").is_visible()
    page.goto(f"/schemes/{scheme}/mentees")
    assert page.get_by_role("link", name="Dr Gil Roe").is_visible()
