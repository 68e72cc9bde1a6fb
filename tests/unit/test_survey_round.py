"""A survey round's rules: who it asks, when it takes answers, once per person."""

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.actors import Actor
from domain.errors import InvalidValue
from domain.scheme import SurveyQuestion
from domain.survey_round import NotInScope, RoundRefused, Standing, SurveyRound

COORDINATOR = Actor("coordinator", "c1")
SURVEY = [
    SurveyQuestion(
        id="benefited",
        text="Benefited?",
        kind="yes_no",
        audience="mentee",
        stages=["review", "end"],
    ),
    SurveyQuestion(
        id="skills", text="Skills?", kind="likert5", audience="mentee", stages=["review"]
    ),
    SurveyQuestion(
        id="worthwhile", text="Worthwhile?", kind="yes_no", audience="mentor", stages=["review"]
    ),
]
OPENS, CLOSES = date(2026, 3, 2), date(2026, 3, 16)


Scheduled = tuple[SurveyRound, list[UUID], list[UUID]]


def a_round(audience: str = "both", **changes: object) -> Scheduled:
    mentees, mentors = [uuid4(), uuid4()], [uuid4()]
    arguments: dict[str, Any] = {
        "name": "AMS review 2006",
        "stage": "review",
        "cohort": None,
        "audience": audience,
        "opens_on": OPENS,
        "closes_on": CLOSES,
        "mentee_ids": mentees,
        "mentor_ids": mentors,
        "today": date(2026, 3, 1),
        "actor": COORDINATOR,
    } | changes
    return SurveyRound.schedule(uuid4(), SURVEY, **arguments), mentees, mentors


def test_everyone_in_scope_answers_once_while_the_round_is_open() -> None:
    survey_round, mentees, mentors = a_round()
    survey_round.answer(mentees[0], {"benefited": True, "skills": 5}, SURVEY, OPENS, COORDINATOR)
    survey_round.answer(mentors[0], {"worthwhile": False}, SURVEY, CLOSES, COORDINATOR)
    assert (survey_round.invited, survey_round.responded) == (3, 2)
    with pytest.raises(RoundRefused, match="already answered"):
        survey_round.answer(mentees[0], {"benefited": False}, SURVEY, OPENS, COORDINATOR)


def test_no_answers_before_it_opens_or_after_the_last_day() -> None:
    survey_round, mentees, _ = a_round()
    with pytest.raises(RoundRefused, match="opens on 2026-03-02"):
        survey_round.answer(mentees[0], {"benefited": True}, SURVEY, date(2026, 3, 1), COORDINATOR)
    with pytest.raises(RoundRefused, match="closed on 2026-03-16"):
        survey_round.answer(mentees[1], {"benefited": True}, SURVEY, date(2026, 3, 17), COORDINATOR)
    assert survey_round.responded == 0


def test_people_out_of_scope_are_refused() -> None:
    survey_round, _, mentors = a_round(audience="mentee")
    assert survey_round.mentor_ids == []
    for stranger in (uuid4(), mentors[0]):
        with pytest.raises(NotInScope):
            survey_round.answer(stranger, {"worthwhile": True}, SURVEY, OPENS, COORDINATOR)


def test_answers_go_through_the_questions_of_the_stage_and_audience() -> None:
    survey_round, mentees, _ = a_round()
    with pytest.raises(InvalidValue, match="no mentee question 'worthwhile'"):
        survey_round.answer(mentees[0], {"worthwhile": True}, SURVEY, OPENS, COORDINATOR)
    with pytest.raises(InvalidValue, match="1-5"):
        survey_round.answer(mentees[0], {"skills": 6}, SURVEY, OPENS, COORDINATOR)
    assert [q["id"] for q in survey_round.questions(SURVEY, mentees[0])] == ["benefited", "skills"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"closes_on": date(2026, 3, 1)}, "closes_on must not be before opens_on"),
        ({"opens_on": date(2026, 2, 1)}, "in the past"),
        ({"stage": "Not A Stage"}, "survey stage"),
        ({"stage": "midpoint"}, "asks mentees nothing at stage 'midpoint'"),
        ({"audience": "everyone"}, "audience"),
        ({"name": "  "}, "blank"),
    ],
)
def test_a_round_that_cannot_be_run_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        a_round(**changes)


def test_where_a_person_stands_with_the_round_day_by_day() -> None:
    survey_round, mentees, _ = a_round()
    before, last_day, after = date(2026, 3, 1), CLOSES, date(2026, 3, 17)
    assert survey_round.standing(mentees[0], before) == Standing.NOT_OPEN
    assert survey_round.standing(mentees[0], last_day) == Standing.OPEN
    assert survey_round.standing(mentees[0], after) == Standing.CLOSED
    survey_round.answer(mentees[0], {"benefited": True}, SURVEY, last_day, COORDINATOR)
    assert survey_round.standing(mentees[0], after) == Standing.ANSWERED
    assert not survey_round.is_open(after)
