"""The AMS 2006 review reproduced from raw answers given in one survey round
(DOMAIN.md, seeds/003): "86% of the 49 mentees who responded reported that the
mentoring they had received had been of benefit; 97% felt they had developed good
relationships with their mentors; and 95% believed that their mentor had the
necessary skills". Each question counts over those who answered it."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest

from domain.actors import Actor
from projections import queries
from services.application import Mentoring
from tests.support.mentoring import (
    ADMIN,
    COORDINATOR,
    mentee_profile,
    mentor_profile,
    mentoring,
    project,
    scheme_settings,
)

pytestmark = pytest.mark.postgres

SURVEY = [
    {"id": "benefited", "text": "Has mentoring been of benefit?", "kind": "yes_no",
     "audience": "mentee", "stages": ["review"]},
    {"id": "good_relationship", "text": "A good relationship with your mentor?",
     "kind": "likert5", "audience": "mentee", "stages": ["review"]},
    {"id": "mentor_skills", "text": "Has your mentor the skills needed?", "kind": "yes_no",
     "audience": "mentee", "stages": ["review"]},
]  # fmt: skip
INVITED, RESPONDED = 55, 49


@pytest.fixture
def app(database_url: str) -> Iterator[Mentoring]:
    with mentoring(database_url) as application:
        yield application


def met_mentor(index: int) -> bool:
    """Mentees 41 to 48 were matched but never met their mentor."""
    return not 41 <= index < RESPONDED


def review_answers(index: int) -> dict[str, Any]:
    """42 of the 49 say they benefited (one of them never met their mentor); 34
    answer the relationship question (33 with 4 or 5), 42 the skills one (40 yes)."""
    answers: dict[str, Any] = {"benefited": index <= 41}
    if index < 34:
        answers["good_relationship"] = 4 if index < 33 else 2
    if index < 42:
        answers["mentor_skills"] = index < 40
    return answers


def test_the_ams_2006_review_from_one_round(app: Mentoring, database_url: str) -> None:
    settings = scheme_settings(
        name="Academy mentoring",
        require_mentor_acceptance=False,
        cohorts=[{"name": "2006", "eligible_count": INVITED}],
        survey=SURVEY,
    )
    scheme_id = app.create_scheme(settings, ADMIN).aggregate.id
    today = datetime.now(UTC).date()
    mentees: list[UUID] = []
    for index in range(INVITED):
        mentor = app.register_mentor(mentor_profile(scheme_id), ADMIN).aggregate.id
        mentee = app.register_mentee(mentee_profile(scheme_id, "2006"), ADMIN).aggregate.id
        pair = app.request_mentor(scheme_id, mentee, [], ADMIN).aggregate.id
        app.invite_mentor(pair, mentor, COORDINATOR)
        if met_mentor(index):
            app.log_meeting(pair, today, "in_person", 60, ADMIN)
        mentees.append(mentee)

    survey_round = app.survey_rounds.schedule(
        scheme_id,
        name="Department of Health review 2006",
        stage="review",
        cohort="2006",
        audience="mentee",
        opens_on=today,
        closes_on=today,
        actor=COORDINATOR,
    ).aggregate
    for index, mentee in enumerate(mentees[:RESPONDED]):
        actor = Actor("mentee", str(mentee))
        app.survey_rounds.answer(survey_round.id, mentee, review_answers(index), actor)
    answered = app.survey_rounds.get(survey_round.id)
    assert (answered.invited, answered.responded) == (INVITED, RESPONDED)

    project(database_url, batch_size=500)
    with psycopg.connect(database_url) as conn:
        report = queries.evaluation(conn, scheme_id, "2006")
    assert report is not None
    found = {
        m["metric"]: (m["numerator"], m["denominator"])
        for m in report["metrics"]
        if m["stage"] == "review"
    }
    assert found == {
        "survey:benefited": (42, 49),
        "survey:good_relationship": (33, 34),
        "survey:mentor_skills": (40, 42),
    }
    published = {"survey:benefited": 86, "survey:good_relationship": 97, "survey:mentor_skills": 95}
    for metric, percent in published.items():
        numerator, denominator = found[metric]
        assert round(100 * numerator / denominator) == percent, metric

    split = {
        (m["metric"], m["met_mentor"]): (m["numerator"], m["denominator"])
        for m in report["survey_by_met_mentor"]
    }
    assert split["survey:benefited", True] == (41, 41)
    assert split["survey:benefited", False] == (1, 8)
