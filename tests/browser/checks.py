"""What every page must pass in a browser: no serious or critical accessibility
violation of WCAG 2.2 AA found by axe-core (vendored in tests/browser/vendor, see
services/web/static/vendor/VENDORED.md), and no sideways scrolling on a 360 px wide
screen.

axe is run through the DevTools protocol (`page.evaluate`), which the pages'
Content-Security-Policy does not govern, so the pages are checked under their
real policy."""

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SERIOUS = {"serious", "critical"}


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
