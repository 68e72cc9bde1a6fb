"""`mentoring up` prints a one-time sign-in link for the bootstrap admin beside the
token, and that link, opened and confirmed, signs them in to the pages."""

import re
from pathlib import Path

import httpx

from tests.integration.test_up_stops_cleanly import a_place, interrupt, start_up, wait_until_ready
from tests.support.web import follow_link, path_of

PRINTED_LINK = re.compile(r"^Sign in: +(?P<url>http://\S+)$", re.MULTILINE)


def test_the_link_up_prints_opens_a_session_for_the_admin(tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    with a_place(tmp_path) as place:
        up = start_up(place, log)
        try:
            wait_until_ready(up, place, log)
            printed = PRINTED_LINK.search(log.read_text())
            assert printed, log.read_text()
            url = printed["url"]
            base = f"http://127.0.0.1:{place.api_port}"
            assert url.startswith(base + "/sign-in/link?token=")
            with httpx.Client(base_url=base, timeout=30) as browser:
                pressed = follow_link(browser, url)
                assert pressed.status_code == 303, pressed.text
                landing = browser.get("/")
                assert landing.status_code == 200 and "Bootstrap admin" in landing.text
            # Once only.
            assert httpx.get(base + path_of(url), timeout=30).status_code == 410
            assert "token=msl_" not in log.read_text().split(url, 1)[1]
            interrupt(up, log)
        finally:
            up.kill()
            up.wait()
