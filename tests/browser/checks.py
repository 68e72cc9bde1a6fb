"""What every page must pass in a browser: no serious or critical accessibility
violation of WCAG 2.2 AA found by axe-core (vendored in tests/browser/vendor, see
services/web/static/vendor/VENDORED.md), and no sideways scrolling on a 360 px wide
screen.

axe is run through the DevTools protocol (`page.evaluate`), which the pages'
Content-Security-Policy does not govern, so the pages are checked under their
real policy."""

from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response

from services.web.sessions import sign_in_page_url
from tests.support.web import Site, link_in, path_of

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SERIOUS = {"serious", "critical"}
# The README links here: a picture of each main page, as the tests last saw it.
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe's serious and critical violations of WCAG 2.2 AA on the page as it is."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(f"() => {{ {AXE}\n}}")
    results: dict[str, Any] = page.evaluate(
        "(tags) => window.axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "nodes": [node["target"] for node in violation["nodes"]],
        }
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]


def assert_accessible(page: Page) -> None:
    violations = accessibility_violations(page)
    assert violations == [], f"{page.url}: {violations}"


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.evaluate("() => window.innerWidth")
    assert width <= viewport, f"{page.url} is {width} px wide on a {viewport} px screen"


def assert_fit_for_everyone(page: Page) -> None:
    """Accessible, and no sideways scroll."""
    assert_accessible(page)
    assert_no_sideways_scroll(page)


def save_screenshot(page: Page, name: str) -> None:
    """A full-page picture of the page as `docs/screenshots/<name>.png`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def watch_for_problems(page: Page) -> list[str]:
    """What goes wrong on the page from now on: script errors, console errors (a
    Content-Security-Policy violation among them) and assets that fail to load. A
    page answered with an error status on purpose (422, 410) is no problem."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response: Response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", on_response)
    return problems


def sign_in(site: Site, context: BrowserContext, email: str, next_path: str = "/") -> Page:
    """A page of `context` signed in as the owner of `email` the way a person does it
    (asking for a link on the sign-in page, opening the emailed link, pressing its
    button), left on `next_path`."""
    page = context.new_page()
    already = len(site.mail_to(email))
    page.goto(sign_in_page_url(next_path))
    page.fill("#email", email)
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_load_state()
    page.goto(path_of(link_in(site.wait_for_mail(email, already))))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page
