"""The work queue of a scheme with more stalled pairs than a page holds, over HTTP:
fifty a page, oldest stall first, with previous and next links that keep the
filters; a page beyond the last shows the last, and one that is not a number the
first."""

import html
import re
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from domain.actors import Actor
from domain.people import Mentee
from domain.relationship import Relationship
from tests.e2e.conftest import free_port
from tests.e2e.test_board_pages import queue_of, staff
from tests.support.web import Site, serving_pages

pytestmark = pytest.mark.postgres

ADMIN = Actor("admin", "test")
STALLS = 61


@pytest.fixture(scope="module")
def site(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    var_dir: Path = tmp_path_factory.mktemp("var")
    nowhere = f"127.0.0.1:{free_port()}"
    with serving_pages(postgres_server, var_dir, MENTORING_TEMPORAL_ADDRESS=nowhere) as site:
        yield site


def stalled_scheme(site: Site) -> tuple[str, list[str]]:
    """A scheme with STALLS requests stalled "unmatched", saved in one go; the
    scheme and its relationships in the order they stalled."""
    cohorts = [{"name": "2026", "eligible_count": 100}]
    scheme = str(site.api.scheme(name="Busy scheme", cohorts=cohorts)["id"])
    app = site.api.runtime.mentoring
    ids: list[str] = []
    for number in range(STALLS):
        mentee = Mentee(
            scheme_id=UUID(scheme), cohort="2026", name=f"Dr Waiting {number:02d}",
            email=f"waiting{number}@example.nhs.uk", grade="CT1", specialty="cardiology",
            specialty_decided=True, institution="General", interests=[], objectives=[],
            line_manager_ids=[], demographics=None, actor=ADMIN,
        )  # fmt: skip
        me = Actor("mentee", str(mentee.id))
        relationship = Relationship(
            scheme_id=mentee.scheme_id, mentee_id=mentee.id, preferred_mentor_ids=[],
            rematch_of=None, actor=me,
        )  # fmt: skip
        mentee.open_request(relationship.id, me)
        relationship.flag_stalled("unmatched", Actor.system("match_within"))
        app.save(mentee, relationship)  # one save each: each stalls later than the last
        ids.append(str(relationship.id))
    return scheme, ids


def links(page: str, rel: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'href="([^"]+)" rel="{rel}"', page)]


def test_the_queue_pages_fifty_at_a_time_keeping_its_filters(site: Site) -> None:
    scheme, ids = stalled_scheme(site)
    coordinator = staff(site, "coordinator", [scheme])

    first = coordinator.get(f"/schemes/{scheme}", params={"reason": "unmatched"})
    assert first.status_code == 200, first.text
    assert queue_of(first.text) == ids[:50]
    assert "Showing 1 to 50 of 61 (page 1 of 2)" in first.text
    assert links(first.text, "prev") == []
    (following,) = links(first.text, "next")
    assert "reason=unmatched" in following and "page=2" in following

    second = coordinator.get(following)
    assert second.status_code == 200, second.text
    assert queue_of(second.text) == ids[50:]
    assert "Showing 51 to 61 of 61 (page 2 of 2)" in second.text
    assert links(second.text, "next") == []
    (back,) = links(second.text, "prev")
    assert queue_of(coordinator.get(back).text) == ids[:50]

    newest = coordinator.get(f"/schemes/{scheme}", params={"sort": "newest", "page": "2"})
    assert queue_of(newest.text) == list(reversed(ids))[50:]

    beyond = coordinator.get(f"/schemes/{scheme}", params={"page": "9"})
    assert beyond.status_code == 200 and queue_of(beyond.text) == ids[50:]
    not_a_number = coordinator.get(f"/schemes/{scheme}", params={"page": "two"})
    assert not_a_number.status_code == 200 and queue_of(not_a_number.text) == ids[:50]

    none_match = coordinator.get(f"/schemes/{scheme}", params={"reason": "meeting_overdue"})
    assert queue_of(none_match.text) == [] and links(none_match.text, "next") == []
