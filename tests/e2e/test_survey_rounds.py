"""A deanery's review over HTTP: a survey round asks a whole cohort at one date,
whatever became of each pairing, and the evaluation counts each question over the
answers given, split by whether the respondent had met their mentor."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.client import Api

TODAY = datetime.now(UTC).date()
REVIEW_SURVEY = [
    {
        "id": "benefited",
        "text": "Benefited?",
        "kind": "yes_no",
        "audience": "mentee",
        "stages": ["review"],
    },
    {
        "id": "good_relationship",
        "text": "A good relationship?",
        "kind": "likert5",
        "audience": "mentee",
        "stages": ["review", "end"],
    },
    {
        "id": "worthwhile",
        "text": "Worthwhile?",
        "kind": "yes_no",
        "audience": "mentor",
        "stages": ["review", "end"],
    },
]


@pytest.fixture(autouse=True)
def real_today(api: Api) -> Iterator[None]:
    """Each test starts on the real UTC day, whatever the last one set."""
    rounds = api.runtime.mentoring.survey_rounds
    today = rounds.today
    yield
    rounds.today = today


def cohort(api: Api) -> dict[str, Any]:
    """A scheme whose 2026 cohort has pairs in every state: two met and still meet,
    one met then ended without blame and was rematched, one matched and never met,
    one still waiting for a mentor and one who never asked; and a mentee of 2027."""
    scheme = api.scheme(
        cohorts=[{"name": "2026", "eligible_count": 6}, {"name": "2027", "eligible_count": 1}],
        survey=REVIEW_SURVEY,
    )
    sid = scheme["id"]
    people: dict[str, Any] = {"scheme": sid}
    for name in ("met_a", "met_b", "ended", "never_met"):
        mentor = api.mentor(sid, email=f"mentor.{name}@example.nhs.uk")
        mentee = api.mentee(sid, email=f"mentee.{name}@example.nhs.uk")
        relationship = api.request(sid, mentee["id"])
        path = f"/v1/relationships/{relationship['id']}"
        api.ok(api.admin.post(f"{path}/invite", json={"mentor_id": mentor["id"]}))
        api.ok(api.admin.post(f"{path}/respond", json={"accept": True}))
        if name != "never_met":
            meeting = {"held_on": TODAY.isoformat(), "mode": "video", "duration_minutes": 60}
            api.ok(api.admin.post(f"{path}/meetings", json=meeting), 201)
        if name == "ended":
            api.ok(api.admin.post(f"{path}/end", json={"kind": "no_blame"}))
            api.ok(api.admin.post(f"{path}/rematch"), 201)
        people[name] = mentee["id"]
        people[f"mentor_{name}"] = mentor["id"]
        people[f"pair_{name}"] = relationship["id"]
    waiting = api.mentee(sid, email="mentee.waiting@example.nhs.uk")
    api.request(sid, waiting["id"])
    people["waiting"] = waiting["id"]
    people["never_asked"] = api.mentee(sid, email="mentee.never.asked@example.nhs.uk")["id"]
    people["next_year"] = api.mentee(sid, cohort="2027", email="mentee.2027@example.nhs.uk")["id"]
    return people


def open_round(api: Api, scheme_id: str, **changes: Any) -> dict[str, Any]:
    body = {
        "name": "Review 2026",
        "stage": "review",
        "cohort": "2026",
        "audience": "both",
        "opens_on": TODAY.isoformat(),
        "closes_on": (TODAY + timedelta(days=14)).isoformat(),
    } | changes
    return api.ok(api.admin.post(f"/v1/schemes/{scheme_id}/survey-rounds", json=body), 201)


def answer(api: Api, role: str, person_id: str, round_id: str, answers: dict[str, Any]) -> Any:
    client = api.as_(api.token(role, subject_id=person_id))
    return client.post(f"/v1/survey-rounds/{round_id}/responses", json={"answers": answers})


MENTEE_ANSWERS: dict[str, dict[str, Any]] = {
    "met_a": {"benefited": True, "good_relationship": 5},
    "met_b": {"benefited": True, "good_relationship": 4},
    "ended": {"benefited": False, "good_relationship": 2},
    "never_met": {"benefited": False},  # left the relationship question unanswered
    "waiting": {"benefited": False},
    "never_asked": {"benefited": True},
}


def test_every_mentee_of_the_cohort_answers_once_whatever_became_of_their_pair(
    api: Api,
) -> None:
    people = cohort(api)
    survey_round = open_round(api, people["scheme"])
    round_id = survey_round["id"]
    # Six mentees and the four mentors they have had (the rematched pair has none yet).
    assert (survey_round["invited"], survey_round["responded"]) == (10, 0)
    assert survey_round["open"] is True

    for name, answers in MENTEE_ANSWERS.items():
        api.ok(answer(api, "mentee", people[name], round_id, answers), 201)
    for name, worthwhile in (("met_a", True), ("ended", False), ("never_met", True)):
        api.ok(
            answer(api, "mentor", people[f"mentor_{name}"], round_id, {"worthwhile": worthwhile}),
            201,
        )

    again = answer(api, "mentee", people["never_met"], round_id, {"benefited": True})
    assert again.status_code == 409, again.text
    assert "already answered" in again.json()["detail"]
    outsider = answer(api, "mentee", people["next_year"], round_id, {"benefited": True})
    assert outsider.status_code == 403, outsider.text
    wrong = answer(api, "mentee", people["met_a"], round_id, {"worthwhile": True})
    assert wrong.status_code in (409, 422)

    counts = api.ok(api.admin.get(f"/v1/survey-rounds/{round_id}"))
    assert (counts["invited"], counts["responded"]) == (10, 9)
    assert counts["response_rate"] == pytest.approx(0.9)

    report = api.ok(
        api.admin.get(
            "/v1/reports/evaluation", params={"scheme_id": people["scheme"], "cohort": "2026"}
        )
    )
    review = {
        m["metric"]: (m["numerator"], m["denominator"])
        for m in report["metrics"]
        if m["stage"] == "review"
    }
    assert review == {
        "survey:benefited": (3, 6),
        "survey:good_relationship": (2, 3),  # asked of six, answered by three
        "survey:worthwhile": (2, 3),
    }
    split = {
        (m["metric"], m["met_mentor"]): (m["numerator"], m["denominator"])
        for m in report["survey_by_met_mentor"]
        if m["stage"] == "review"
    }
    assert split[("survey:benefited", True)] == (2, 3)
    assert split[("survey:benefited", False)] == (1, 3)
    assert split[("survey:good_relationship", True)] == (2, 3)
    assert split[("survey:good_relationship", False)] == (0, 0)
    assert split[("survey:worthwhile", True)] == (1, 2)
    assert split[("survey:worthwhile", False)] == (1, 1)

    # The audit trail records who answered, never what.
    with api.runtime.pool.connection() as connection:
        details = connection.execute(
            "SELECT details FROM reporting.audit_log WHERE aggregate_id = %s "
            "AND event_type = 'SurveyRound.Answered'",
            (round_id,),
        ).fetchall()
    assert len(details) == 9
    assert all("answers" not in row[0] and "benefited" not in str(row[0]) for row in details)


def test_a_round_takes_no_answers_after_it_closes(api: Api) -> None:
    people = cohort(api)
    survey_round = open_round(api, people["scheme"], audience="mentee")
    api.ok(answer(api, "mentee", people["met_a"], survey_round["id"], {"benefited": True}), 201)
    rounds = api.runtime.mentoring.survey_rounds
    rounds.today = lambda: TODAY + timedelta(days=15)

    late = answer(api, "mentee", people["never_met"], survey_round["id"], {"benefited": True})
    assert late.status_code == 409, late.text
    assert "closed on" in late.json()["detail"]
    counts = api.ok(api.admin.get(f"/v1/survey-rounds/{survey_round['id']}"))
    assert (counts["invited"], counts["responded"], counts["open"]) == (6, 1, False)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"closes_on": (TODAY - timedelta(days=1)).isoformat()}, "closes_on"),
        ({"stage": "Final Review"}, "stage"),
        ({"stage": "midpoint"}, "asks"),
        ({"cohort": "1999"}, "cohort"),
        ({"audience": "everyone"}, "audience"),
    ],
)
def test_a_round_that_cannot_run_is_a_422_and_saves_nothing(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    scheme = api.scheme(survey=REVIEW_SURVEY)
    before = api.count_events()
    body = {
        "name": "Review",
        "stage": "review",
        "audience": "mentee",
        "opens_on": TODAY.isoformat(),
        "closes_on": (TODAY + timedelta(days=7)).isoformat(),
    } | changes
    response = api.admin.post(f"/v1/schemes/{scheme['id']}/survey-rounds", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.text
    assert api.count_events() == before


def test_only_the_schemes_own_staff_open_a_round(api: Api) -> None:
    scheme = api.scheme(survey=REVIEW_SURVEY)
    other = api.scheme(survey=REVIEW_SURVEY)
    body = {
        "name": "Review",
        "stage": "review",
        "audience": "mentee",
        "opens_on": TODAY.isoformat(),
        "closes_on": TODAY.isoformat(),
    }
    theirs = api.as_(api.token("coordinator", scheme_ids=[other["id"]]))
    path = f"/v1/schemes/{scheme['id']}/survey-rounds"
    assert theirs.post(path, json=body).status_code == 404
    reporter = api.as_(api.token("reporter"))
    assert reporter.post(path, json=body).status_code == 403
    own = api.as_(api.token("coordinator", scheme_ids=[scheme["id"]]))
    created = api.ok(own.post(path, json=body), 201)
    assert theirs.get(f"/v1/survey-rounds/{created['id']}").status_code == 404
    assert api.ok(reporter.get(f"/v1/survey-rounds/{created['id']}"))["invited"] == 0


def test_an_end_of_scheme_round_hears_the_mentee_whose_pair_never_met(api: Api) -> None:
    """The pair's own end-of-scheme check-in still waits for its timer and refuses a
    pair that never met (a round of one); the cohort's end-of-scheme round does not."""
    people = cohort(api)
    never_met = people["never_met"]
    own = api.as_(api.token("mentee", subject_id=never_met)).post(
        f"/v1/relationships/{people['pair_never_met']}/feedback",
        json={"stage": "end", "respondent": "mentee", "answers": {"good_relationship": 1}},
    )
    assert own.status_code == 409, own.text

    survey_round = open_round(api, people["scheme"], stage="end", audience="mentee")
    api.ok(answer(api, "mentee", never_met, survey_round["id"], {"good_relationship": 1}), 201)
