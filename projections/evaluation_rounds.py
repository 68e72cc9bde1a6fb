"""The survey rounds' facts of `reporting.evaluation`: each round (how many it asks)
and each answer given in one (`evaluation_round_answers`, one row per person and
question). The per-pair answers stay in `evaluation_answers`; the evaluation counts
both alike (projections.evaluation_sql).
"""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from domain.survey_round import SurveyRound
from projections.pairs import Row
from projections.view import Positioned, copy_rows, create_table_sql, load_rows

ROUND_COLUMNS: dict[str, str] = {
    "round_id": "uuid PRIMARY KEY",
    "scheme_id": "uuid NOT NULL",
    "name": "text NOT NULL",
    "stage": "text NOT NULL",
    "cohort": "text",
    "audience": "text NOT NULL",
    "opens_on": "date NOT NULL",
    "closes_on": "date NOT NULL",
    "invited": "integer NOT NULL",
    "scheduled_at": "timestamptz NOT NULL",
}
ROUND_ANSWER_COLUMNS: dict[str, str] = {
    "round_id": "uuid NOT NULL",
    "person_id": "uuid NOT NULL",
    "respondent": "text NOT NULL",
    "question_id": "text NOT NULL",
    "scheme_id": "uuid NOT NULL",
    "stage": "text NOT NULL",
    "yes": "boolean",
    "likert": "smallint",
    "positive": "boolean NOT NULL",
    "answered_at": "timestamptz NOT NULL",
    "position": "bigint NOT NULL",
}

ROUND_DDL = (
    create_table_sql("evaluation_survey_rounds", ROUND_COLUMNS),
    create_table_sql(
        "evaluation_round_answers",
        ROUND_ANSWER_COLUMNS,
        ", PRIMARY KEY (round_id, person_id, question_id)",
    ),
    "CREATE INDEX IF NOT EXISTS evaluation_round_answers_person "
    "ON reporting.evaluation_round_answers (person_id)",
)
ROUND_TABLES = ("evaluation_round_answers", "evaluation_survey_rounds")


def answer_values(value: bool | int) -> dict[str, Any]:
    """`yes`, `likert` and `positive` of one answer. Positive: yes, or 4-5 of 5."""
    if isinstance(value, bool):
        return {"yes": value, "likert": None, "positive": value}
    return {"yes": None, "likert": value, "positive": value >= 4}


def project_rounds(curs: Cursor[Any], events: Sequence[Positioned]) -> None:
    """Write the rounds scheduled and the answers given in `events`."""
    rounds: dict[Any, Row] = {}
    for event, _ in events:
        if isinstance(event, SurveyRound.Scheduled):
            rounds[event.originator_id] = {
                "round_id": event.originator_id,
                "scheme_id": event.scheme_id,
                "name": event.name,
                "stage": event.stage,
                "cohort": event.cohort,
                "audience": event.audience,
                "opens_on": event.opens_on,
                "closes_on": event.closes_on,
                "invited": len(event.mentee_ids) + len(event.mentor_ids),
                "scheduled_at": event.timestamp,
            }
    copy_rows(curs, "evaluation_survey_rounds", tuple(ROUND_COLUMNS), rounds.values())
    answered = [(e, p) for e, p in events if isinstance(e, SurveyRound.Answered)]
    known = rounds | load_rows(
        curs,
        "evaluation_survey_rounds",
        "round_id",
        {e.originator_id for e, _ in answered} - rounds.keys(),
    )
    rows = [
        {
            "round_id": event.originator_id,
            "person_id": event.person_id,
            "respondent": event.respondent,
            "question_id": question_id,
            "scheme_id": known[event.originator_id]["scheme_id"],
            "stage": known[event.originator_id]["stage"],
            "answered_at": event.timestamp,
            "position": position,
            **answer_values(value),
        }
        for event, position in answered
        for question_id, value in sorted(event.answers.items())
    ]
    copy_rows(curs, "evaluation_round_answers", tuple(ROUND_ANSWER_COLUMNS), rows)
