"""The evaluation reproduces published figures (DOMAIN.md) from raw answers, and the
equity report hides small numbers."""

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import Aggregate

from domain.people import Mentee, Mentor
from domain.relationship import Relationship
from domain.scheme import Scheme
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


@pytest.fixture
def app(database_url: str) -> Iterator[Mentoring]:
    with mentoring(database_url) as application:
        yield application


def metrics(database_url: str, scheme_id: UUID) -> dict[tuple[str, Any], tuple[Any, ...]]:
    project(database_url, batch_size=500)
    with psycopg.connect(database_url) as conn:
        report = queries.evaluation(conn, scheme_id)
    assert report is not None
    return {
        (m["metric"], m["stage"]): (m["numerator"], m["denominator"], m["value"])
        for m in report["metrics"]
    }


def pair_up(app: Mentoring, scheme_id: UUID, mentee_id: UUID, mentor_id: UUID) -> UUID:
    relationship = app.request_mentor(scheme_id, mentee_id, [], ADMIN).aggregate.id
    app.invite_mentor(relationship, mentor_id, COORDINATOR)
    return relationship


def meet(app: Mentoring, relationship_id: UUID, mode: str = "in_person") -> None:
    """Log a meeting held on the day the pair was matched."""
    matched_at = app.get_relationship(relationship_id).matched_at
    assert matched_at is not None
    app.log_meeting(relationship_id, matched_at.date(), mode, 60, ADMIN)


def test_cmt_scheme_figures(app: Mentoring, database_url: str) -> None:
    """CMT scheme: 75% of eligible trainees signed up, 80% of those had decided their
    specialty, 90% of those signed up met their mentor. Here: 40 eligible, 30 sign up,
    24 have decided, 27 meet their mentor."""
    settings = scheme_settings(
        name="CMT specialty mentoring",
        require_mentor_acceptance=False,
        cohorts=[{"name": "CMT", "eligible_count": 40}],
    )
    scheme_id = app.create_scheme(settings, ADMIN).aggregate.id
    mentors = [
        app.register_mentor(mentor_profile(scheme_id, capacity=3), ADMIN).aggregate.id
        for _ in range(10)
    ]
    for trainee in range(30):
        profile = mentee_profile(scheme_id, "CMT", specialty_decided=trainee < 24)
        mentee_id = app.register_mentee(profile, ADMIN).aggregate.id
        relationship = pair_up(app, scheme_id, mentee_id, mentors[trainee // 3])
        if trainee < 27:
            meet(app, relationship)
    found = metrics(database_url, scheme_id)
    assert found["uptake_rate", None] == (30, 40, 0.75)
    assert found["specialty_decided_rate", None] == (24, 30, 0.8)
    assert found["met_mentor_rate", None] == (27, 30, 0.9)


# AMS 2010 evaluation: question -> (audience, kind, share answering yes or 4-5).
AMS_2010 = {
    "satisfied": ("mentee", "likert5", 82),
    "justified_time": ("mentee", "likert5", 81),
    "more_independent": ("mentee", "yes_no", 60),
    "more_confident": ("mentee", "yes_no", 59),
    "networking_skills": ("mentee", "yes_no", 50),
    "career_goals": ("mentee", "yes_no", 57),
    "more_collaborations": ("mentee", "yes_no", 54),
    "stayed_in_academic_medicine": ("mentee", "yes_no", 53),
    "worthwhile_would_mentor_again": ("mentor", "yes_no", 95),
    "benefited": ("mentor", "yes_no", 69),
}


def raw_answers(respondents: int, seed: int = 2010) -> list[dict[str, dict[str, Any]]]:
    """Each respondent's answers, by audience: for each question, exactly the published
    share of the 100 respondents says yes (or 4-5), the others no (or 1-3), spread at
    random over respondents."""
    rng = random.Random(seed)
    answers: list[dict[str, dict[str, Any]]] = [
        {"mentee": {}, "mentor": {}} for _ in range(respondents)
    ]
    for question, (audience, kind, percent) in AMS_2010.items():
        positive = set(rng.sample(range(respondents), percent * respondents // 100))
        for index in range(respondents):
            yes = index in positive
            if kind == "yes_no":
                value: Any = yes
            else:
                value = rng.choice((4, 5)) if yes else rng.choice((1, 2, 3))
            answers[index][audience][question] = value
    return answers


def ams_pair(scheme: Scheme, answers: dict[str, dict[str, Any]]) -> list[Aggregate]:
    """One AMS pair from request to the end of the scheme, with both parties' answers:
    the application's commands, played on the aggregates so that the pair is saved
    at once (a hundred pairs in a second rather than ten)."""
    today = datetime.now(UTC).date()
    mentor = Mentor(**mentor_profile(scheme.id), actor=ADMIN)
    mentee = Mentee(**mentee_profile(scheme.id, "2010"), actor=ADMIN)
    pair = Relationship(
        scheme_id=scheme.id, mentee_id=mentee.id, preferred_mentor_ids=[], rematch_of=None,
        actor=ADMIN,
    )  # fmt: skip
    mentee.open_request(pair.id, ADMIN)
    pair.invite(mentor.id, scheme.require_mentor_acceptance, None, COORDINATOR)
    mentor.take_place(pair.id, ADMIN)
    mentee.record_mentor(mentor.id, ADMIN)
    pair.log_meeting(today, "in_person", 90, scheme.timers["planned_duration"], today, ADMIN)
    pair.end("completed", None, ADMIN)
    mentee.close_request(pair.id, ADMIN)
    mentor.release_place(pair.id, ADMIN)
    for respondent in ("mentee", "mentor"):
        pair.give_feedback("end", respondent, answers[respondent], scheme.survey, ADMIN)
    return [mentor, mentee, pair]


def test_ams_2010_evaluation_figures(app: Mentoring, database_url: str) -> None:
    """AMS 2010: 82% of mentees satisfied, 81% found it justified the time, ...; 95% of
    mentors found it worthwhile, 69% benefited. Here: 100 pairs answer."""
    survey = [
        {"id": q, "text": q, "kind": kind, "audience": audience, "stages": ["end"]}
        for q, (audience, kind, _) in AMS_2010.items()
    ]
    settings = scheme_settings(
        name="Academy mentoring 2010",
        require_mentor_acceptance=False,
        cohorts=[{"name": "2010", "eligible_count": 100}],
        survey=survey,
    )
    scheme = app.get_scheme(app.create_scheme(settings, ADMIN).aggregate.id)
    for answers in raw_answers(100):
        app.save(*ams_pair(scheme, answers))
    found = metrics(database_url, scheme.id)
    for question, (_, _, percent) in AMS_2010.items():
        assert found[f"survey:{question}", "end"] == (percent, 100, percent / 100), question


def test_equity_hides_counts_under_five_and_the_group_that_would_give_them_away(
    app: Mentoring, database_url: str
) -> None:
    """17 mentees: 8 women, 7 men, 2 intersex. Every count under 5 is hidden, and where
    only one group of a metric is hidden, the next smallest is hidden too."""
    settings = scheme_settings(require_mentor_acceptance=False, cohorts=[])
    scheme_id = app.create_scheme(settings, ADMIN).aggregate.id
    # sex -> (registered, requested, matched, met)
    plan = {"female": (8, 8, 6, 5), "male": (7, 6, 5, 4), "intersex": (2, 2, 1, 0)}
    for sex, (registered, requested, matched, met) in plan.items():
        for person in range(registered):
            profile = mentee_profile(scheme_id, "2024", demographics={"sex": sex})
            mentee_id = app.register_mentee(profile, ADMIN).aggregate.id
            if person >= requested:
                continue
            relationship = app.request_mentor(scheme_id, mentee_id, [], ADMIN).aggregate.id
            if person >= matched:
                continue
            mentor_id = app.register_mentor(mentor_profile(scheme_id), ADMIN).aggregate.id
            app.invite_mentor(relationship, mentor_id, COORDINATOR)
            if person < met:
                meet(app, relationship, "video")
    project(database_url)
    with psycopg.connect(database_url) as conn:
        rows = queries.equity(conn, scheme_id)
    shown = {
        (row["group"], row["metric"]): (row["numerator"], row["denominator"])
        for row in rows
        if not row["suppressed"]
    }
    assert shown == {
        ("female", "mentees"): (8, 17),
        ("female", "request_rate"): (8, 8),
        ("female", "match_rate"): (6, 8),
        ("female", "met_mentor_rate"): (5, 8),
    }
    hidden = [row for row in rows if row["suppressed"]]
    assert len(hidden) == 15 - len(shown)
    assert all(row["numerator"] is row["denominator"] is row["value"] is None for row in hidden)
