"""What the survey form makes of the radios chosen: the answers the API takes, and
words for what is wrong."""

from domain.scheme import SurveyQuestion
from services.web.surveys import NOT_ANSWERED, parsed_answers

QUESTIONS = [
    SurveyQuestion(id="benefited", text="Benefited?", kind="yes_no", audience="mentee",
                   stages=["review"]),
    SurveyQuestion(id="skills", text="Skills?", kind="likert5", audience="mentee",
                   stages=["review"]),
]  # fmt: skip


def test_yes_no_and_one_to_five_become_the_api_answers() -> None:
    assert parsed_answers(QUESTIONS, {"benefited": "no", "skills": "4", "csrf_token": "t"}) == (
        {"benefited": False, "skills": 4},
        {},
    )


def test_a_question_left_out_is_not_answered() -> None:
    assert parsed_answers(QUESTIONS, {"skills": "1"}) == ({"skills": 1}, {})


def test_nothing_chosen_asks_for_one_answer_at_the_first_question() -> None:
    assert parsed_answers(QUESTIONS, {}) == ({}, {"benefited": NOT_ANSWERED})


def test_a_value_no_radio_gives_is_named_beside_its_question() -> None:
    answers, errors = parsed_answers(QUESTIONS, {"benefited": "yes", "skills": "6"})
    assert answers == {"benefited": True}
    assert errors == {"skills": "Choose one of the answers to: Skills?"}
