"""The coordinator's board over HTTP without JavaScript, as a browser posts its forms:
who may open which page (the API's access rules), every pair action as a form post
(303 back with a confirmation), a post without its CSRF token refused, bad input
re-rendered with the field's error (422), refusals of the domain shown (409), and
matching a cohort confirmed in part."""

import re
from collections.abc import Iterator
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.e2e.client import TODAY
from tests.e2e.conftest import free_port
from tests.support.web import Site, hidden_fields, serving_pages, signed_in_visitor

pytestmark = pytest.mark.postgres

_numbers = count()


@pytest.fixture(scope="module")
def site(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    var_dir: Path = tmp_path_factory.mktemp("var")
    # No Temporal answers here: the pair page says so and shows the rest.
    nowhere = f"127.0.0.1:{free_port()}"
    with serving_pages(postgres_server, var_dir, MENTORING_TEMPORAL_ADDRESS=nowhere) as site:
        yield site


def email() -> str:
    return f"board{next(_numbers)}@example.nhs.uk"


def staff(site: Site, role: str, scheme_ids: list[str] | None = None) -> httpx.Client:
    """A signed-in member of staff with `role`."""
    address = email()
    body: dict[str, Any] = {"name": f"Dr {role.title()}", "email": address, "role": role}
    if scheme_ids:
        body["scheme_ids"] = scheme_ids
    site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    return signed_in_visitor(site, address)


def a_scheme(site: Site, name: str = "Board scheme") -> str:
    objectives = [
        {
            "id": "matched",
            "description": "Most mentees matched",
            "metric": "match_rate",
            "comparison": ">=",
            "target": 0.8,
        }
    ]
    cohorts = [{"name": "2026", "eligible_count": 10}, {"name": "2027", "eligible_count": 10}]
    return str(site.api.scheme(name=name, objectives=objectives, cohorts=cohorts)["id"])


def a_mentor(site: Site, scheme: str, name: str = "Dr Asha Rao") -> dict[str, Any]:
    return site.api.mentor(scheme, name=name, email=email())


def a_request(site: Site, scheme: str, name: str = "Dr Ben Okafor", cohort: str = "2026") -> str:
    mentee = site.api.mentee(scheme, name=name, email=email(), cohort=cohort)
    return str(site.api.request(scheme, mentee["id"])["id"])


def post_form(client: httpx.Client, page: str, path: str, **fields: str) -> httpx.Response:
    """Post a form of the page at `page` with its CSRF token, as a browser does."""
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return client.post(path, data={"csrf_token": hidden_fields(shown.text)["csrf_token"]} | fields)


def test_schemes_a_coordinator_sees_are_their_own(site: Site) -> None:
    mine, theirs = a_scheme(site, "Mine scheme"), a_scheme(site, "Theirs scheme")
    coordinator = staff(site, "coordinator", [mine])

    listed = coordinator.get("/schemes")
    assert listed.status_code == 200
    assert "Mine scheme" in listed.text and "Theirs scheme" not in listed.text
    assert f'href="/schemes/{mine}"' in listed.text
    for path in (f"/schemes/{theirs}", f"/schemes/{theirs}/matching"):
        assert coordinator.get(path).status_code == 404, path
    assert "Theirs scheme" in staff(site, "admin").get("/schemes").text


def test_people_in_the_scheme_cannot_open_the_board(site: Site) -> None:
    scheme = a_scheme(site)
    relationship = a_request(site, scheme)
    mentee_email = site.api.runtime.mentoring.get_mentee(
        site.api.runtime.mentoring.get_relationship(UUID(relationship)).mentee_id
    ).email
    mentee = signed_in_visitor(site, mentee_email)
    for path in ("/schemes", f"/schemes/{scheme}", f"/schemes/{scheme}/matching"):
        assert mentee.get(path).status_code == 403, path
    assert mentee.get(f"/pairs/{relationship}").status_code == 403
    assert "mentoring_session" in mentee.cookies
    refused = post_form(mentee, "/", f"/pairs/{relationship}/pause", reason_category="other")
    assert refused.status_code == 403
    assert not site.api.runtime.mentoring.get_relationship(UUID(relationship)).paused


def test_a_page_not_signed_in_asks_to_sign_in(site: Site) -> None:
    answer = site.visitor().get("/schemes")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fschemes"


def test_the_dashboard_counts_a_cohort_and_works_the_stalled_queue(site: Site) -> None:
    scheme = a_scheme(site)
    mentor = a_mentor(site, scheme)
    stalled = a_request(site, scheme, "Dr Stalled Long")
    escalated = a_request(site, scheme, "Dr Escalated Too")
    a_request(site, scheme, "Dr Later Cohort", cohort="2027")
    matched = a_request(site, scheme, "Dr Matched Mentee")
    site.api.admin.post(f"/v1/relationships/{matched}/invite", json={"mentor_id": mentor["id"]})
    # What the workflow's timers run when match_within passes, and escalate_after.
    mentoring = site.api.runtime.mentoring
    for relationship in (stalled, escalated):
        requested_at = mentoring.get_relationship(UUID(relationship)).requested_at
        mentoring.flag_stalled(UUID(relationship), "match_within", requested_at)
    since = mentoring.get_relationship(UUID(escalated)).stalled_since
    assert since is not None
    mentoring.escalate(UUID(escalated), since)
    coordinator = staff(site, "coordinator", [scheme])

    page = coordinator.get(f"/schemes/{scheme}", params={"cohort": "2026"})
    assert page.status_code == 200, page.text
    assert count_of(page.text, "requested") == 2
    assert count_of(page.text, "mentor_invited") == 1
    assert count_of(coordinator.get(f"/schemes/{scheme}").text, "requested") == 3
    assert "Match rate" in page.text and "&gt;= 80%" in page.text
    assert "Not met" in page.text
    assert queue_of(page.text) == [stalled, escalated]

    newest = coordinator.get(f"/schemes/{scheme}", params={"sort": "newest"})
    assert queue_of(newest.text) == [escalated, stalled]
    only = coordinator.get(f"/schemes/{scheme}", params={"escalated": "yes"})
    assert queue_of(only.text) == [escalated]
    none = coordinator.get(f"/schemes/{scheme}", params={"reason": "meeting_overdue"})
    assert queue_of(none.text) == []
    assert f'href="/pairs/{stalled}"' in page.text

    bad = coordinator.get(f"/schemes/{scheme}", params={"cohort": "1999", "reason": "bored"})
    assert bad.status_code == 422
    assert "Choose a cohort from the list" in bad.text
    assert "Choose a reason from the list" in bad.text
    assert 'href="#cohort"' in bad.text

    reporter = staff(site, "reporter").get(f"/schemes/{scheme}")
    assert reporter.status_code == 200
    assert "Match rate" in reporter.text and queue_of(reporter.text) == []
    assert "Dr Stalled Long" not in reporter.text


def count_of(page: str, state: str) -> int:
    found = re.search(rf'data-state="{state}">(\d+)<', page)
    assert found, f"no count of {state}"
    return int(found[1])


def queue_of(page: str) -> list[str]:
    return re.findall(r'<tr class="nhsuk-table__row" data-relationship="([0-9a-f-]+)"', page)


def test_every_action_on_the_pair_page_as_a_form_post(site: Site) -> None:
    scheme = a_scheme(site)
    mentor = a_mentor(site, scheme, "Dr Ranked First")
    relationship = a_request(site, scheme, "Dr Pair Page")
    coordinator = staff(site, "coordinator", [scheme])
    page = f"/pairs/{relationship}"

    shown = coordinator.get(page)
    assert shown.status_code == 200, shown.text
    assert "Dr Pair Page" in shown.text and "Waiting for a mentor" in shown.text
    assert "Dr Ranked First (score" in shown.text and "specialty (weight" in shown.text
    assert "Asked for a mentor" in shown.text and "Requested" not in shown.text
    # No Temporal in these tests: the page says so and shows the rest.
    assert "Deadlines not available" in shown.text

    def act(action: str, **fields: str) -> httpx.Response:
        return post_form(coordinator, page, f"{page}/{action}", **fields)

    def run(steps: list[tuple[str, dict[str, str], str, str]]) -> None:
        for action, fields, done, seen in steps:
            answer = act(action, **fields)
            assert answer.status_code == 303, (action, answer.text)
            assert answer.headers["location"] == f"{page}?done={done}"
            after = coordinator.get(answer.headers["location"])
            assert "nhsuk-notification-banner--success" in after.text, action
            assert seen in after.text, action

    missing = act("invite")
    assert missing.status_code == 422
    assert "Choose a mentor to invite" in missing.text and 'href="#mentor_id"' in missing.text

    steps = [
        ("invite", {"mentor_id": mentor["id"]}, "invited", "Mentor invited"),
        ("respond", {"answer": "accept"}, "accepted", "Matched"),
        ("pause", {"reason_category": "sickness"}, "paused", "Paused"),
        ("resume", {}, "resumed", "Resumed"),
    ]
    run(steps)
    # Meetings are the pair's to log (the API); once they have met, the end can move.
    meeting = {"held_on": TODAY, "mode": "video", "duration_minutes": 45}
    meetings = f"/v1/relationships/{relationship}/meetings"
    site.api.ok(site.api.admin.post(meetings, json=meeting), 201)
    assert "Met on" in coordinator.get(page).text
    steps = [
        (
            "extend",
            {"until_day": "31", "until_month": "12", "until_year": str(datetime.now().year + 3)},
            "extended",
            "Planned end moved to 31 December",
        ),
        ("end", {"kind": "no_blame"}, "ended", "Ended early, no blame"),
    ]
    run(steps)

    rematched = act("rematch")
    assert rematched.status_code == 303
    new_page = rematched.headers["location"].split("?")[0]
    assert new_page != page
    assert "Asked for a mentor again, after a rematch" in coordinator.get(new_page).text


def test_bad_input_and_refusals_on_the_pair_page(site: Site) -> None:
    scheme = a_scheme(site)
    relationship = a_request(site, scheme, "Dr Bad Input")
    coordinator = staff(site, "coordinator", [scheme])
    page = f"/pairs/{relationship}"

    no_token = coordinator.post(f"{page}/pause", data={"reason_category": "other"})
    assert no_token.status_code == 403
    assert not site.api.runtime.mentoring.get_relationship(UUID(relationship)).paused

    wrong = post_form(coordinator, page, f"{page}/pause", reason_category="holiday")
    assert wrong.status_code == 422
    assert "Choose why the pair is pausing" in wrong.text
    assert 'href="#reason_category"' in wrong.text and "nhsuk-form-group--error" in wrong.text

    bad_date = post_form(
        coordinator, page, f"{page}/extend", until_day="31", until_month="2", until_year="2027"
    )
    assert bad_date.status_code == 422
    assert "Enter the new planned end as a real date" in bad_date.text

    # Extending a request with no mentor: the domain refuses, the page says why.
    refused = post_form(
        coordinator, page, f"{page}/extend", until_day="1", until_month="1", until_year="2030"
    )
    assert refused.status_code == 409, refused.text
    assert "This could not be done" in refused.text and "Cannot extend" in refused.text

    unknown = post_form(coordinator, page, f"{page}/invite", mentor_id=str(UUID(int=7)))
    assert unknown.status_code == 404

    other = staff(site, "coordinator", [a_scheme(site)])
    assert other.get(page).status_code == 404
    assert post_form(other, "/schemes", f"{page}/pause", reason_category="other").status_code == 404


def test_auditors_see_the_pair_but_may_not_act(site: Site) -> None:
    scheme = a_scheme(site)
    relationship = a_request(site, scheme, "Dr Audited")
    auditor = staff(site, "auditor")
    page = f"/pairs/{relationship}"

    shown = auditor.get(page)
    assert shown.status_code == 200
    assert "What you can do" not in shown.text and 'action="/pairs/' not in shown.text
    assert post_form(auditor, page, f"{page}/pause", reason_category="other").status_code == 403
    assert staff(site, "reporter").get(page).status_code == 403
    assert auditor.get(f"/schemes/{scheme}/matching").status_code == 403


def test_matching_a_cohort_confirms_only_the_proposals_ticked(site: Site) -> None:
    scheme = a_scheme(site)
    a_mentor(site, scheme, "Dr Mentor One")
    a_mentor(site, scheme, "Dr Mentor Two")
    first = a_request(site, scheme, "Dr Cohort First")
    second = a_request(site, scheme, "Dr Cohort Second")
    later = a_request(site, scheme, "Dr Other Cohort", cohort="2027")
    coordinator = staff(site, "coordinator", [scheme])
    path = f"/schemes/{scheme}/matching"

    dry = coordinator.get(path, params={"cohort": "2026"})
    assert dry.status_code == 200, dry.text
    ticks = re.findall(r'name="pair" type="checkbox" value="([0-9a-f-]+:[0-9a-f-]+)"', dry.text)
    assert sorted(t.split(":")[0] for t in ticks) == sorted([first, second])
    assert "Dr Other Cohort" not in dry.text
    assert "(score" in dry.text

    nothing = post_form(coordinator, path, path, cohort="2026")
    assert nothing.status_code == 422
    assert "Choose at least one proposal to confirm" in nothing.text

    chosen = next(t for t in ticks if t.startswith(first))
    unknown = post_form(coordinator, path, path, cohort="1999", pair=chosen)
    assert unknown.status_code == 422 and "Choose a cohort from the list" in unknown.text
    assert site.api.runtime.mentoring.get_relationship(UUID(first)).state == "requested"
    done = post_form(coordinator, path, path, cohort="2026", pair=chosen)
    assert done.status_code == 200, done.text
    assert "1 invitation sent" in done.text
    mentoring = site.api.runtime.mentoring
    assert mentoring.get_relationship(UUID(first)).state == "mentor_invited"
    assert mentoring.get_relationship(UUID(second)).state == "requested"
    assert mentoring.get_relationship(UUID(later)).state == "requested"

    again = post_form(coordinator, path, path, cohort="2026", pair=chosen)
    assert "0 invitations sent" in again.text
    assert "run the matching again" in again.text


def test_declining_for_the_mentor_and_posts_by_reporters(site: Site) -> None:
    scheme = a_scheme(site)
    mentor = a_mentor(site, scheme, "Dr Declining Mentor")
    relationship = a_request(site, scheme, "Dr Declined Mentee")
    coordinator = staff(site, "coordinator", [scheme])
    page = f"/pairs/{relationship}"
    invited = post_form(coordinator, page, f"{page}/invite", mentor_id=mentor["id"])
    assert invited.status_code == 303

    reporter = staff(site, "reporter")
    refused = post_form(reporter, "/schemes", f"{page}/respond", answer="accept")
    assert refused.status_code == 403
    assert site.api.runtime.mentoring.get_relationship(UUID(relationship)).state == (
        "mentor_invited"
    )

    unanswered = post_form(coordinator, page, f"{page}/respond")
    assert unanswered.status_code == 422 and "Choose accept or decline" in unanswered.text
    declined = post_form(coordinator, page, f"{page}/respond", answer="decline")
    assert declined.status_code == 303
    after = coordinator.get(declined.headers["location"])
    assert "declined on the mentor&#39;s behalf" in after.text
    assert "The mentor declined the invitation" in after.text
