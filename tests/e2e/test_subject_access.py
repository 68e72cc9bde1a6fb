"""Subject access over HTTP on real PostgreSQL: a mentee with a full history asks for
everything held about them, and gets every category of it, and nothing of their
mentor's: no name, email, pause reason, answers, or who ended the pairing and why."""

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.client import TODAY, Api
from tests.e2e.test_notifications import send_everything

CATEGORIES = {
    "person",
    "exported_at",
    "profile",
    "record_history",
    "relationships",
    "feedback",
    "notifications",
    "access_log",
}
DEMOGRAPHICS = {"ethnic_group": "Zqx ethnic group seven", "disability": "Zqx disability three"}
MENTOR_EMAIL = "mentor.zqx@example.nhs.uk"
MENTOR_NAME = "Dr Zqx Mentorsson"
MENTEE_EMAIL = "mentee.zqx@example.nhs.uk"
MENTOR_END_REASON = "zqx_moving_abroad"
SURVEY = [
    {
        "id": "satisfied",
        "text": "Overall, satisfied?",
        "kind": "likert5",
        "audience": "mentee",
        "stages": ["midpoint"],
    },
    {
        "id": "worthwhile",
        "text": "Worthwhile?",
        "kind": "yes_no",
        "audience": "mentor",
        "stages": ["baseline"],
    },
]


@dataclass(frozen=True)
class History:
    scheme_id: str
    mentor_id: str
    mentee_id: str
    relationship_id: str
    mentee: Any  # the mentee's own API client
    mentor: Any


@pytest.fixture(scope="module")
def history(api: Api, tmp_path_factory: pytest.TempPathFactory) -> History:
    """A pair matched, met, agreed, paused by the mentor for sickness and by the mentee
    for parental leave, with feedback from both, notified by mail, read by the
    coordinator, and ended without blame by the mentor."""
    scheme_id = api.scheme(survey=SURVEY)["id"]
    mentor_id = api.mentor(scheme_id, name=MENTOR_NAME, email=MENTOR_EMAIL)["id"]
    mentee_id = api.mentee(scheme_id, email=MENTEE_EMAIL, demographics=DEMOGRAPHICS)["id"]
    relationship_id = api.request(scheme_id, mentee_id)["id"]
    path = f"/v1/relationships/{relationship_id}"
    mentee = api.as_(api.token("mentee", subject_id=mentee_id))
    mentor = api.as_(api.token("mentor", subject_id=mentor_id))
    api.ok(api.admin.post(f"{path}/invite", json={"mentor_id": mentor_id}))
    api.ok(mentor.post(f"{path}/respond", json={"accept": True}))
    meeting = {"held_on": TODAY, "mode": "video", "duration_minutes": 60}
    api.ok(mentee.post(f"{path}/meetings", json=meeting), 201)
    agreement = {
        "meeting_frequency": "monthly",
        "ground_rules_agreed": True,
        "confidentiality_agreed": True,
    }
    api.ok(mentee.post(f"{path}/agreement", json=agreement))
    api.ok(mentor.post(f"{path}/pause", json={"reason_category": "sickness"}))
    api.ok(mentor.post(f"{path}/resume"))
    api.ok(mentee.post(f"{path}/pause", json={"reason_category": "parental_leave"}))
    api.ok(mentee.post(f"{path}/resume"))
    mine = {"stage": "midpoint", "respondent": "mentee", "answers": {"satisfied": 4}}
    api.ok(mentee.post(f"{path}/feedback", json=mine), 201)
    theirs = {"stage": "baseline", "respondent": "mentor", "answers": {"worthwhile": False}}
    api.ok(mentor.post(f"{path}/feedback", json=theirs), 201)
    review = {
        "name": "Zqx cohort review",
        "stage": "midpoint",
        "audience": "mentee",
        "opens_on": TODAY,
        "closes_on": TODAY,
    }
    round_id = api.ok(api.admin.post(f"/v1/schemes/{scheme_id}/survey-rounds", json=review), 201)[
        "id"
    ]
    answer = {"answers": {"satisfied": 2}}
    api.ok(mentee.post(f"/v1/survey-rounds/{round_id}/responses", json=answer), 201)
    send_everything(api, tmp_path_factory.mktemp("mail"))
    coordinator = api.as_(api.token("coordinator", scheme_ids=[scheme_id]))
    api.ok(coordinator.get(f"/v1/mentees/{mentee_id}"))
    api.ok(coordinator.get(path))
    ending = {"kind": "no_blame", "reason_category": MENTOR_END_REASON}
    api.ok(mentor.post(f"{path}/end", json=ending))
    return History(scheme_id, mentor_id, mentee_id, relationship_id, mentee, mentor)


def export_of(api: Api, client: Any, person_id: str) -> dict[str, Any]:
    return api.ok(client.get(f"/v1/people/{person_id}/export"))


def test_a_mentees_export_holds_every_category_of_what_is_held_about_them(
    api: Api, history: History
) -> None:
    export = export_of(api, history.mentee, history.mentee_id)

    assert export.keys() == CATEGORIES
    assert export["person"] == {"role": "mentee", "id": history.mentee_id}
    assert export["profile"]["email"] == MENTEE_EMAIL
    assert export["profile"]["demographics"] == DEMOGRAPHICS
    registered, opened = export["record_history"][:2]
    assert (registered["type"], opened["type"]) == ("Registered", "RequestOpened")
    assert registered["details"]["demographics"] == DEMOGRAPHICS  # entered by staff, theirs
    assert registered["details"]["email"] == MENTEE_EMAIL and registered["withheld"] == []
    closed = next(e for e in export["record_history"] if e["type"] == "RequestClosed")
    assert closed["actor"] is None  # who ended the pairing: sealed, and not them
    (relationship,) = export["relationships"]
    assert relationship["id"] == history.relationship_id
    assert relationship["other_party"] == {"role": "mentor", "id": history.mentor_id}
    assert relationship["meetings_count"] == 1
    assert relationship["end_kind"] == "no_blame"
    types = [e["type"] for e in relationship["events"]]
    assert {"MeetingLogged", "AgreementRecorded", "Paused", "FeedbackGiven", "Ended"} <= set(types)
    own_pause = [e for e in relationship["events"] if e["type"] == "Paused" and not e["withheld"]]
    assert [e["details"]["reason_category"] for e in own_pause] == ["parental_leave"]
    in_pair, in_round = export["feedback"]
    assert in_pair == {
        "relationship_id": history.relationship_id,
        "survey_round_id": None,
        "survey_round": None,
        "stage": "midpoint",
        "given_at": in_pair["given_at"],
        "answers": {"satisfied": 4},
    }
    assert in_round["relationship_id"] is None and in_round["survey_round"] == "Zqx cohort review"
    assert (in_round["stage"], in_round["answers"]) == ("midpoint", {"satisfied": 2})
    assert {n["kind"] for n in export["notifications"]} >= {"matched"}
    assert all(n["relationship_id"] == history.relationship_id for n in export["notifications"])
    reads = {(a["actor_role"], a["record_type"]) for a in export["access_log"]}
    assert {("coordinator", "mentee"), ("coordinator", "relationship")} <= reads
    assert ("mentee", "subject_access_export") in reads  # this very read


def test_a_mentees_export_holds_nothing_of_their_mentors(api: Api, history: History) -> None:
    export = export_of(api, history.mentee, history.mentee_id)
    text = json.dumps(export)

    for value in (MENTOR_EMAIL, MENTOR_NAME, "Mentorsson", "sickness", MENTOR_END_REASON):
        assert value not in text
    assert "worthwhile" not in text  # the mentor's answer
    (relationship,) = export["relationships"]
    ended = next(e for e in relationship["events"] if e["type"] == "Ended")
    assert ended["actor"] is None and ended["withheld"] == ["actor", "reason_category"]
    theirs = [e for e in relationship["events"] if e["withheld"] == ["answers"]]
    assert len(theirs) == 1 and "answers" not in theirs[0]["details"]


def test_a_mentors_export_holds_nothing_of_their_mentees_but_their_own_acts(
    api: Api, history: History
) -> None:
    export = export_of(api, history.mentor, history.mentor_id)
    text = json.dumps(export)

    assert export["profile"]["email"] == MENTOR_EMAIL
    for value in (MENTEE_EMAIL, "Ben Okafor", *DEMOGRAPHICS.values(), "parental_leave"):
        assert value not in text
    (relationship,) = export["relationships"]
    assert relationship["other_party"] == {"role": "mentee", "id": history.mentee_id}
    ended = next(e for e in relationship["events"] if e["type"] == "Ended")
    assert ended["details"]["reason_category"] == MENTOR_END_REASON  # their own act
    assert [f["answers"] for f in export["feedback"]] == [{"worthwhile": False}]
    assert "satisfied" not in text


def test_an_admin_exports_anyone_and_the_export_is_logged_as_theirs(
    api: Api, history: History
) -> None:
    export = export_of(api, api.admin, history.mentee_id)

    assert export["profile"]["demographics"] == DEMOGRAPHICS
    exports = [a for a in export["access_log"] if a["record_type"] == "subject_access_export"]
    assert exports[-1]["actor_role"] == "admin"
    assert exports[-1]["route"] == f"/v1/people/{history.mentee_id}/export"


def test_nobody_else_may_export_a_person(api: Api, history: History) -> None:
    other_mentee = api.mentee(history.scheme_id, email="someone.else@example.nhs.uk")["id"]
    another = api.as_(api.token("mentee", subject_id=other_mentee))
    coordinator = api.as_(api.token("coordinator", scheme_ids=[history.scheme_id]))
    path = f"/v1/people/{history.mentee_id}/export"

    assert another.get(path).status_code == 404
    assert history.mentor.get(path).status_code == 404
    assert coordinator.get(path).status_code == 403
    assert api.as_(api.token("auditor")).get(path).status_code == 403
    unknown = api.admin.get("/v1/people/00000000-0000-4000-8000-000000000000/export")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")


def test_a_person_with_no_history_yet_has_an_export_with_only_their_profile(api: Api) -> None:
    scheme_id = api.scheme()["id"]
    mentee_id = api.mentee(scheme_id, email="quiet.one@example.nhs.uk")["id"]

    export = export_of(api, api.admin, mentee_id)

    assert export["relationships"] == [] and export["feedback"] == []
    assert export["notifications"] == []
