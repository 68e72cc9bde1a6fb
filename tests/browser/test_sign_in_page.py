"""Signing in, in a real browser: every page on the way is accessible (axe, WCAG
2.2 AA) and fits a 360 px screen, the pages' own script runs under their
Content-Security-Policy, and the whole way works with JavaScript turned off."""

from itertools import count

from playwright.sync_api import BrowserContext, Page

from tests.browser.checks import assert_fit_for_everyone, watch_for_problems
from tests.support.web import Site, link_in, path_of

_numbers = count()


def a_coordinator(site: Site) -> str:
    scheme = site.api.scheme()["id"]
    email = f"browser{next(_numbers)}@example.nhs.uk"
    body = {"name": "Dr Browser", "email": email, "role": "coordinator", "scheme_ids": [scheme]}
    site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    return email


def ask_for_link(site: Site, page: Page, email: str) -> str:
    page.fill("#email", email)
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_load_state()
    return link_in(site.wait_for_mail(email, 0))


def test_every_page_of_signing_in_is_accessible_and_fits_a_phone(
    site: Site, narrow: BrowserContext
) -> None:
    email = a_coordinator(site)
    page = narrow.new_page()
    problems = watch_for_problems(page)

    page.goto("/sign-in")
    assert_fit_for_everyone(page)
    # The pages' module ran (the frontend's components started) despite the CSP.
    page.wait_for_function("() => document.body.classList.contains('js-enabled')")

    page.get_by_role("button", name="Send me a link").click()  # no email given
    page.wait_for_selector(".nhsuk-error-summary")
    assert page.title().startswith("Error: ")
    assert_fit_for_everyone(page)

    link = ask_for_link(site, page, email)
    assert page.get_by_role("heading", name="Check your email").is_visible()
    assert_fit_for_everyone(page)

    page.goto(path_of(link))
    assert_fit_for_everyone(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name="Dr Browser").is_visible()
    assert_fit_for_everyone(page)

    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    page.wait_for_selector("text=You have signed out")
    assert_fit_for_everyone(page)

    page.goto(path_of(link))
    assert page.get_by_role("heading", name="This link cannot be used").is_visible()
    assert_fit_for_everyone(page)
    assert problems == [], problems


def test_signing_in_works_without_javascript(
    site: Site, without_javascript: BrowserContext
) -> None:
    email = a_coordinator(site)
    page = without_javascript.new_page()
    page.goto("/sign-in?next=/%3Fview%3Dmine")

    link = ask_for_link(site, page, email)
    page.goto(path_of(link))
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/?view=mine")
    assert page.get_by_role("heading", name="Dr Browser").is_visible()
