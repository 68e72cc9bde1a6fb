"""Single sign-on in a real browser, against a real provider
(tests/support/oidc_provider.py): the sign-in page offering it, and the page of a
refused attempt, are accessible (axe, WCAG 2.2 AA) and fit a 360 px screen; the
whole way there and back works with JavaScript turned off, the state's
`SameSite=Lax` cookie coming back from the provider's site."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.checks import assert_fit_for_everyone, watch_for_problems
from tests.support.oidc_provider import Provider, running_provider
from tests.support.web import Site, serving_pages


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def site(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory, provider: Provider
) -> Iterator[Site]:
    var_dir: Path = tmp_path_factory.mktemp("var")
    with serving_pages(
        postgres_server,
        var_dir,
        MENTORING_OIDC_ISSUER=provider.issuer,
        MENTORING_OIDC_CLIENT_ID="mentoring-service",
        MENTORING_OIDC_CLIENT_SECRET="secret",
    ) as site:
        yield site


def test_the_sign_in_page_offering_single_sign_on_is_accessible_and_fits_a_phone(
    site: Site, narrow: BrowserContext
) -> None:
    page = narrow.new_page()
    problems = watch_for_problems(page)

    page.goto("/sign-in?next=/reports")

    link = page.get_by_role("button", name="Sign in with your organisation's account")
    assert link.get_attribute("href") == "/sign-in/oidc?next=%2Freports"
    assert_fit_for_everyone(page)
    assert problems == []


def a_coordinator(site: Site, provider: Provider, sub: str, **claims: object) -> None:
    """A coordinator with a staff account, known to the provider as `sub`."""
    scheme = site.api.scheme()["id"]
    email = f"{sub}@example.nhs.uk"
    body = {"name": "Dr Browser Sso", "email": email, "role": "coordinator"}
    site.api.ok(site.api.admin.post("/v1/staff", json=body | {"scheme_ids": [scheme]}), 201)
    provider.set_user(sub, **({"email": email} | claims))


def sign_in_at_provider(page: Page, provider: Provider, sub: str) -> None:
    """From the sign-in page, the way through the provider's page as `sub`. The
    provider's page asks a CDN for its style, which a test machine may not reach."""
    page.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    page.get_by_role("button", name="Sign in with your organisation's account").click()
    page.wait_for_url(f"{provider.issuer}/**", wait_until="domcontentloaded")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()


def test_the_page_of_a_refused_attempt_is_accessible_and_offers_the_emailed_link(
    site: Site, provider: Provider, narrow: BrowserContext
) -> None:
    a_coordinator(site, provider, "browser-unverified", email_verified=False)
    page = narrow.new_page()
    page.goto("/sign-in")

    sign_in_at_provider(page, provider, "browser-unverified")

    page.wait_for_url(f"{site.base_url}/sign-in/oidc/callback**")
    assert page.get_by_role("heading", name="Sign-in did not work").is_visible()
    assert_fit_for_everyone(page)
    page.get_by_role("link", name="Sign in with a link sent to your email instead").click()
    page.wait_for_url(f"{site.base_url}/sign-in")


def test_a_coordinator_signs_in_through_the_provider_without_javascript(
    site: Site, provider: Provider, without_javascript: BrowserContext
) -> None:
    a_coordinator(site, provider, "browser-sso", email_verified=True)
    page = without_javascript.new_page()
    page.goto("/sign-in?next=/")

    sign_in_at_provider(page, provider, "browser-sso")

    page.wait_for_url(f"{site.base_url}/")
    assert page.get_by_role("heading", name="Dr Browser Sso").is_visible()
