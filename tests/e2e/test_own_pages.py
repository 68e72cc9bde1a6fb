"""Mentors' and mentees' own pages over HTTP, without JavaScript: each action a
plain form post with its CSRF token, bad input answered with the form and its
errors (422), and nobody acting on another person's relationship or invitation."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.mail.sender import Sender
from services.mail.transport import transport_from
from tests.e2e.client import TODAY
from tests.support.web import Site, hidden_fields, notices_to, serving_pages, signed_in_visitor


@pytest.fixture(scope="module")
def site(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    var_dir: Path = tmp_path_factory.mktemp("var")
    with serving_pages(postgres_server, var_dir) as site:
        yield site


def token_of(client: httpx.Client, path: str = "/my") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return hidden_fields(page.text)["csrf_token"]


def post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    """Post a form of the page `/my` as the browser would, with its token."""
    return client.post(path, data={"csrf_token": token_of(client), **fields})


def relationship_of(site: Site, mentee_id: str) -> dict[str, Any]:
    found = site.api.ok(site.api.admin.get("/v1/relationships", params={"mentee_id": mentee_id}))
    return found["items"][-1]  # type: ignore[no-any-return]


def state_of(site: Site, relationship_id: str) -> str:
    return str(site.api.ok(site.api.admin.get(f"/v1/relationships/{relationship_id}"))["state"])


def people(site: Site, tag: str, model: str = "mentee_choice") -> tuple[dict[str, Any], ...]:
    scheme = site.api.scheme(name=f"Own pages {tag}", matching_model=model)
    mentor = site.api.mentor(scheme["id"], name=f"Dr Mentor {tag}", email=f"mentor.{tag}@x.nhs.uk")
    mentee = site.api.mentee(scheme["id"], name=f"Dr Mentee {tag}", email=f"mentee.{tag}@x.nhs.uk")
    return scheme, mentor, mentee


def matched(site: Site, tag: str) -> tuple[str, httpx.Client, httpx.Client]:
    """A pair matched through the pages: (relationship id, mentee, mentor)."""
    _, mentor, mentee = people(site, tag)
    as_mentee = signed_in_visitor(site, mentee["email"], "/my")
    assert post(as_mentee, "/my/requests").status_code == 303
    relationship_id = relationship_of(site, mentee["id"])["id"]
    assert post(as_mentee, "/my/invite", mentor_id=mentor["id"]).status_code == 303
    as_mentor = signed_in_visitor(site, mentor["email"], "/my")
    answered = post(as_mentor, f"/my/invitations/{relationship_id}", answer="accept")
    assert answered.status_code == 303
    return relationship_id, as_mentee, as_mentor


def test_a_mentee_asks_chooses_from_the_directory_and_the_mentor_accepts(site: Site) -> None:
    _, mentor, mentee = people(site, "ask")
    as_mentee = signed_in_visitor(site, mentee["email"], "/my")
    home = as_mentee.get("/my")
    assert "Ask for a mentor" in home.text

    refused = as_mentee.post("/my/requests", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert (
        site.api.ok(site.api.admin.get("/v1/relationships", params={"mentee_id": mentee["id"]}))[
            "items"
        ]
        == []
    )

    assert post(as_mentee, "/my/requests").status_code == 303
    relationship_id = relationship_of(site, mentee["id"])["id"]
    assert "Waiting for a mentor" in as_mentee.get("/my").text
    again = post(as_mentee, "/my/requests")
    assert again.status_code == 409
    assert "There is a problem" in again.text

    directory = as_mentee.get("/my/directory")
    assert mentor["name"] in directory.text and "Has room" in directory.text
    assert mentor["email"] not in directory.text
    assert post(as_mentee, "/my/invite", mentor_id="not-an-id").status_code == 422
    assert post(as_mentee, "/my/invite", mentor_id=mentor["id"]).status_code == 303
    assert state_of(site, relationship_id) == "mentor_invited"

    as_mentor = signed_in_visitor(site, mentor["email"], f"/my/invitations/{relationship_id}")
    assert f"/my/invitations/{relationship_id}" in as_mentor.get("/my").text
    opened = as_mentor.get(f"/my/invitations/{relationship_id}", params={"answer": "accept"})
    assert re.search(r'value="accept" checked', opened.text)
    assert state_of(site, relationship_id) == "mentor_invited", "opening the link changes nothing"
    unanswered = post(as_mentor, f"/my/invitations/{relationship_id}")
    assert unanswered.status_code == 422
    assert "Select whether you accept the invitation" in unanswered.text
    accepted = post(as_mentor, f"/my/invitations/{relationship_id}", answer="accept")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/my/relationships/{relationship_id}"
    assert state_of(site, relationship_id) == "matched"
    assert mentee["name"] in as_mentor.get("/my").text


def test_a_pair_records_its_agreement_and_meetings_pauses_resumes_and_ends_without_blame(
    site: Site,
) -> None:
    relationship_id, as_mentee, as_mentor = matched(site, "life")
    page = f"/my/relationships/{relationship_id}"
    shown = as_mentee.get(page)
    assert "there is no place here to write it down" in shown.text
    assert "First meeting" in shown.text

    bad = post(as_mentee, f"{page}/meetings", held_on="2999-01-01", mode="", duration_minutes="x")
    assert bad.status_code == 422
    assert "Select how you met" in bad.text
    assert "Enter how long the meeting lasted" in bad.text
    future = post(
        as_mentee, f"{page}/meetings", held_on="2999-01-01", mode="video", duration_minutes="60"
    )
    assert future.status_code == 422 and "in the future" in future.text
    assert state_of(site, relationship_id) == "matched"

    met = post(as_mentee, f"{page}/meetings", held_on=TODAY, mode="video", duration_minutes="90")
    assert met.status_code == 303
    assert state_of(site, relationship_id) == "active"
    no_frequency = post(as_mentor, f"{page}/agreement", meeting_frequency=" ")
    assert no_frequency.status_code == 422
    agreed = post(
        as_mentor,
        f"{page}/agreement",
        meeting_frequency="monthly",
        ground_rules_agreed="yes",
        confidentiality_agreed="yes",
    )
    assert agreed.status_code == 303
    text = as_mentor.get(page).text
    assert "In place: meet monthly" in text and "1.5 hours in all" in text

    assert post(as_mentee, f"{page}/pause", reason_category="holiday").status_code == 422
    assert post(as_mentee, f"{page}/pause", reason_category="parental_leave").status_code == 303
    assert "Your mentoring is paused" in as_mentor.get(page).text
    assert post(as_mentor, f"{page}/resume").status_code == 303
    assert post(as_mentor, f"{page}/resume").status_code == 409

    assert post(as_mentee, f"{page}/end").status_code == 303
    assert state_of(site, relationship_id) == "ended"
    for client in (as_mentee, as_mentor):
        assert "Ended, no blame" in client.get(page).text
    record = as_mentee.get("/my/record").text
    assert "Hours of meetings" in record and "1.5" in record and "In place" in record


def mail_round(site: Site) -> None:
    """What the sender does on each round of `mentoring up`: notices of new events
    recorded, planned for their recipients and sent (as .eml files here)."""
    runtime = site.api.runtime
    sender = Sender(
        runtime.mentoring,
        runtime.pool,
        runtime.staff,
        transport_from(runtime.settings),
        mail_from=runtime.settings.mail_from,
        public_url=runtime.settings.public_url,
    )
    sender.create_tables()
    sender.round()


def subjects_to(site: Site, email: str) -> list[str]:
    """The subjects of the notices sent to `email` (addressed with a name) so far."""
    mail_round(site)
    return [str(message["Subject"]) for message in notices_to(site, email)]


def test_a_private_no_tells_the_coordinator_and_a_mentee_asks_for_a_new_mentor(
    site: Site,
) -> None:
    relationship_id, as_mentee, as_mentor = matched(site, "doubt")
    scheme_id = site.api.ok(site.api.admin.get(f"/v1/relationships/{relationship_id}"))["scheme_id"]
    coordinator = "coordinator.doubt@x.nhs.uk"
    account = {"name": "Coordinator", "email": coordinator, "role": "coordinator"}
    site.api.ok(site.api.admin.post("/v1/staff", json=account | {"scheme_ids": [scheme_id]}), 201)
    page = f"/my/relationships/{relationship_id}"
    assert "Is this pairing working for you?" not in as_mentee.get(page).text
    met = post(as_mentee, f"{page}/meetings", held_on=TODAY, mode="phone", duration_minutes="45")
    assert met.status_code == 303
    assert "Is this pairing working for you?" in as_mentee.get(page).text

    assert post(as_mentor, f"{page}/pairing-check").status_code == 422
    assert post(as_mentor, f"{page}/pairing-check", working="yes").status_code == 303
    doubt = "may want a no-blame rematch"
    assert not [subject for subject in subjects_to(site, coordinator) if doubt in subject]
    assert post(as_mentee, f"{page}/pairing-check", working="no").status_code == 303
    assert post(as_mentee, f"{page}/pairing-check", working="no").status_code == 409
    assert len([subject for subject in subjects_to(site, coordinator) if doubt in subject]) == 1
    for party in ("mentor.doubt@x.nhs.uk", "mentee.doubt@x.nhs.uk"):
        assert not [subject for subject in subjects_to(site, party) if doubt in subject]
    pair = site.api.ok(site.api.admin.get(f"/v1/relationships/{relationship_id}"))
    as_mentor_api = site.api.as_(site.api.token("mentor", pair["mentor_id"]))
    history = site.api.ok_list(as_mentor_api.get(f"/v1/relationships/{relationship_id}/events"))
    answers = [e for e in history if e["type"] == "PairingChecked"]
    assert len(answers) == 2 and all("working" not in e["details"] for e in answers)
    assert "Only you and the scheme" in as_mentor.get(page).text

    assert post(as_mentee, f"{page}/rematch-request").status_code == 409  # not ended yet
    assert post(as_mentee, f"{page}/end").status_code == 303
    assert post(as_mentor, f"{page}/rematch-request").status_code == 403
    assert post(as_mentee, f"{page}/rematch-request").status_code == 303
    assert "You have asked the scheme" in as_mentee.get(page).text
    assert any("asks for a new mentor" in subject for subject in subjects_to(site, coordinator))


def test_a_mentee_cannot_open_or_act_on_another_mentees_relationship(site: Site) -> None:
    relationship_id, _, _ = matched(site, "theirs")
    _, _, stranger = people(site, "stranger")
    as_stranger = signed_in_visitor(site, stranger["email"], "/my")
    page = f"/my/relationships/{relationship_id}"
    assert as_stranger.get(page).status_code == 404
    ended = post(as_stranger, f"{page}/end")
    assert ended.status_code == 404
    met = post(as_stranger, f"{page}/meetings", held_on=TODAY, mode="phone", duration_minutes="30")
    assert met.status_code == 404
    assert state_of(site, relationship_id) == "matched"


def test_a_mentor_cannot_answer_another_mentors_invitation(site: Site) -> None:
    _, mentor, mentee = people(site, "invited")
    as_mentee = signed_in_visitor(site, mentee["email"], "/my")
    assert post(as_mentee, "/my/requests").status_code == 303
    relationship_id = relationship_of(site, mentee["id"])["id"]
    assert post(as_mentee, "/my/invite", mentor_id=mentor["id"]).status_code == 303
    _, other_mentor, _ = people(site, "other")
    as_other = signed_in_visitor(site, other_mentor["email"], "/my")
    assert as_other.get(f"/my/invitations/{relationship_id}").status_code == 404
    answer = post(as_other, f"/my/invitations/{relationship_id}", answer="accept")
    assert answer.status_code == 404
    assert post(as_mentee, f"/my/invitations/{relationship_id}", answer="accept").status_code == 403
    assert state_of(site, relationship_id) == "mentor_invited"


def test_a_mentor_pauses_taking_mentees_and_bad_capacity_is_refused(site: Site) -> None:
    _, mentor, _ = people(site, "capacity")
    as_mentor = signed_in_visitor(site, mentor["email"], "/my/profile")
    token = token_of(as_mentor, "/my/profile")
    bad = as_mentor.post(
        "/my/profile/availability", data={"csrf_token": token, "capacity": "99", "available": "no"}
    )
    assert bad.status_code == 422 and "from 0 to 20" in bad.text
    assert site.api.ok(site.api.admin.get(f"/v1/mentors/{mentor['id']}"))["available"] is True
    saved = as_mentor.post(
        "/my/profile/availability", data={"csrf_token": token, "capacity": "1", "available": "no"}
    )
    assert saved.status_code == 303
    found = site.api.ok(site.api.admin.get(f"/v1/mentors/{mentor['id']}"))
    assert found["available"] is False and found["capacity"] == 1


def test_staff_are_sent_away_from_the_mentoring_pages(site: Site) -> None:
    site.api.ok(
        site.api.admin.post(
            "/v1/staff", json={"name": "Coord", "email": "coord.own@x.nhs.uk", "role": "admin"}
        ),
        201,
    )
    as_admin = signed_in_visitor(site, "coord.own@x.nhs.uk", "/")
    assert as_admin.get("/my").status_code == 403
    assert as_admin.get("/my/record").status_code == 403


def test_a_mentee_rewrites_their_objectives_and_an_overlong_one_is_refused(site: Site) -> None:
    _, _, mentee = people(site, "objectives")
    as_mentee = signed_in_visitor(site, mentee["email"], "/my/profile")
    token = token_of(as_mentee, "/my/profile")
    too_long = as_mentee.post(
        "/my/profile/objectives", data={"csrf_token": token, "objectives": "x" * 201}
    )
    assert too_long.status_code == 422 and "under 200 characters" in too_long.text
    saved = as_mentee.post(
        "/my/profile/objectives",
        data={"csrf_token": token, "objectives": "a research career\n\n  return to training \n"},
    )
    assert saved.status_code == 303
    found = site.api.ok(site.api.admin.get(f"/v1/mentees/{mentee['id']}"))
    assert found["objectives"] == ["a research career", "return to training"]


def test_in_a_hybrid_scheme_a_mentee_picks_one_of_the_suggested_mentors(site: Site) -> None:
    _, mentor, mentee = people(site, "hybrid", model="hybrid")
    as_mentee = signed_in_visitor(site, mentee["email"], "/my")
    assert post(as_mentee, "/my/requests").status_code == 303
    assert "See the mentors suggested for you" in as_mentee.get("/my").text
    suggested = as_mentee.get("/my/suggestions")
    assert mentor["name"] in suggested.text and "Why we suggest them" in suggested.text
    assert re.search(r"Pick one of these mentors by \d+ \w+ \d{4}", suggested.text)
    picked = post(as_mentee, "/my/invite", mentor_id=mentor["id"])
    assert picked.status_code == 303
    assert state_of(site, relationship_of(site, mentee["id"])["id"]) == "mentor_invited"


def test_in_an_assigned_scheme_a_mentee_may_not_choose(site: Site) -> None:
    _, mentor, mentee = people(site, "assigned", model="assigned")
    as_mentee = signed_in_visitor(site, mentee["email"], "/my")
    assert post(as_mentee, "/my/requests").status_code == 303
    assert as_mentee.get("/my/directory").status_code == 403
    assert post(as_mentee, "/my/invite", mentor_id=mentor["id"]).status_code == 403
    assert state_of(site, relationship_of(site, mentee["id"])["id"]) == "requested"


def test_a_mentor_declines_with_a_reason_the_mentee_never_sees(site: Site) -> None:
    _, mentor, mentee = people(site, "decline")
    as_mentee = signed_in_visitor(site, mentee["email"], "/my")
    assert post(as_mentee, "/my/requests").status_code == 303
    relationship_id = relationship_of(site, mentee["id"])["id"]
    assert post(as_mentee, "/my/invite", mentor_id=mentor["id"]).status_code == 303
    as_mentor = signed_in_visitor(site, mentor["email"], "/my")
    invitation = f"/my/invitations/{relationship_id}"
    odd = post(as_mentor, invitation, answer="decline", reason_category="too_busy")
    assert odd.status_code == 422 and "Select a reason from the list" in odd.text
    declined = post(as_mentor, invitation, answer="decline", reason_category="no_time")
    assert declined.status_code == 303 and declined.headers["location"] == "/my"
    assert state_of(site, relationship_id) == "requested"
    assert as_mentor.get(invitation).status_code == 404, "no longer theirs"

    as_mentee_api = site.api.as_(site.api.token("mentee", mentee["id"]))
    history = site.api.ok_list(as_mentee_api.get(f"/v1/relationships/{relationship_id}/events"))
    declines = [e for e in history if e["type"] == "InvitationDeclined"]
    assert len(declines) == 1 and declines[0]["sealed"] is True
    assert "reason_category" not in declines[0]["details"]
    assert "no_time" not in as_mentee.get("/my").text
