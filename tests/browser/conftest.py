"""Browser tests: the real service over a real socket, driven by Debian's Chromium
(headless) through Playwright. One browser for the whole session, a fresh context
(cookies, viewport) per test.

They are skipped, saying why, only when no `chromium` is on the PATH; CI installs
it (.ci/run)."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

from tests.support.web import Site, serving_pages

# The narrowest phone the pages are made for.
NARROW = {"width": 360, "height": 740}


# Package scope, not session: Playwright's sync API keeps an asyncio loop marked as
# running in this thread until it stops, and the tests after these call asyncio.run.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if shutil.which("chromium") is None:
        pytest.skip("no `chromium` on the PATH (apt-get install chromium; .ci/run does)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def site(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    var_dir: Path = tmp_path_factory.mktemp("var")
    with serving_pages(postgres_server, var_dir) as site:
        yield site


@pytest.fixture
def narrow(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A phone-wide browser on the site, with JavaScript."""
    context = browser.new_context(base_url=site.base_url, viewport=NARROW)
    yield context
    context.close()


@pytest.fixture
def without_javascript(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A browser on the site with JavaScript turned off."""
    context = browser.new_context(
        base_url=site.base_url, viewport=NARROW, java_script_enabled=False
    )
    yield context
    context.close()
