"""`reporting.evaluation`: the scheme's evaluation by scheme and cohort.

The projection keeps facts (schemes with their cohorts, objectives and survey;
mentees; pairs; survey answers, a pair's and a survey round's:
projections.evaluation_rounds) and the metrics are SQL views over them
(`projections.evaluation_sql`), so every metric, medians included, is always
exactly what the facts at the tracked position say.
"""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from domain.people import Mentee
from domain.relationship import Relationship
from domain.scheme import Scheme
from domain.survey_round import SurveyRound
from projections.evaluation_rounds import (
    ROUND_DDL,
    ROUND_TABLES,
    answer_values,
    project_rounds,
)
from projections.evaluation_sql import EVALUATION_SQL, OBJECTIVES_SQL, SURVEY_BY_MET_MENTOR_SQL
from projections.events import ALL_RELATIONSHIP_TOPICS, events_of, topics
from projections.pairs import PAIR_COLUMNS, Row
from projections.relationships import fold_pairs
from projections.view import (
    Positioned,
    ReportingProjection,
    ReportingView,
    copy_rows,
    create_table_sql,
    load_rows,
    replace_rows,
)

SCHEME_COLUMNS: dict[str, str] = {
    "scheme_id": "uuid PRIMARY KEY",
    "name": "text NOT NULL",
    "matching_model": "text NOT NULL",
    "require_mentor_acceptance": "boolean NOT NULL",
    "cohorts": "jsonb NOT NULL",
    "objectives": "jsonb NOT NULL",
    "survey": "jsonb NOT NULL",
    "created_at": "timestamptz NOT NULL",
    "updated_at": "timestamptz NOT NULL",
}
SCHEME_SETTINGS = (
    "name",
    "matching_model",
    "require_mentor_acceptance",
    "cohorts",
    "objectives",
    "survey",
)
MENTEE_COLUMNS: dict[str, str] = {
    "mentee_id": "uuid PRIMARY KEY",
    "scheme_id": "uuid NOT NULL",
    "cohort": "text NOT NULL",
    "grade": "text NOT NULL",
    "specialty": "text NOT NULL",
    "specialty_decided": "boolean NOT NULL",
    "registered_at": "timestamptz NOT NULL",
}
ANSWER_COLUMNS: dict[str, str] = {
    "relationship_id": "uuid NOT NULL",
    "stage": "text NOT NULL",
    "respondent": "text NOT NULL",
    "question_id": "text NOT NULL",
    "scheme_id": "uuid NOT NULL",
    "mentee_id": "uuid NOT NULL",
    "yes": "boolean",
    "likert": "smallint",
    "positive": "boolean NOT NULL",
    "answered_at": "timestamptz NOT NULL",
    "position": "bigint NOT NULL",
}


def answer_rows(pair: Row, event: Any, position: int) -> list[Row]:
    """One row per answer of a FeedbackGiven event (answer_values)."""
    rows = []
    for question_id, value in sorted(event.answers.items()):
        rows.append(
            {
                "relationship_id": event.originator_id,
                "stage": event.stage,
                "respondent": event.respondent,
                "question_id": question_id,
                "scheme_id": pair["scheme_id"],
                "mentee_id": pair["mentee_id"],
                **answer_values(value),
                "answered_at": event.timestamp,
                "position": position,
            }
        )
    return rows


class EvaluationView(ReportingView):
    tables = (
        *ROUND_TABLES,
        "evaluation_answers",
        "evaluation_pairs",
        "evaluation_mentees",
        "evaluation_schemes",
    )
    ddl = (
        create_table_sql("evaluation_schemes", SCHEME_COLUMNS),
        create_table_sql("evaluation_mentees", MENTEE_COLUMNS),
        "CREATE INDEX IF NOT EXISTS evaluation_mentees_scheme "
        "ON reporting.evaluation_mentees (scheme_id, cohort)",
        create_table_sql("evaluation_pairs", PAIR_COLUMNS),
        "CREATE INDEX IF NOT EXISTS evaluation_pairs_mentee "
        "ON reporting.evaluation_pairs (mentee_id)",
        create_table_sql(
            "evaluation_answers",
            ANSWER_COLUMNS,
            ", PRIMARY KEY (relationship_id, stage, respondent, question_id)",
        ),
        *ROUND_DDL,
    )
    sql_views = (
        ("evaluation", EVALUATION_SQL),
        ("evaluation_objectives", OBJECTIVES_SQL),
        ("evaluation_survey_by_met_mentor", SURVEY_BY_MET_MENTOR_SQL),
    )


class EvaluationProjection(ReportingProjection):
    name = "evaluation"
    topics = (
        topics(Scheme.Created, Scheme.SettingsChanged)
        + topics(Mentee.Registered)
        + ALL_RELATIONSHIP_TOPICS
        + topics(*events_of(SurveyRound))
    )
    view_class = EvaluationView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        of_schemes = [(e, p) for e, p in events if isinstance(e, Scheme.Event)]
        of_mentees = [(e, p) for e, p in events if isinstance(e, Mentee.Event)]
        of_pairs = [(e, p) for e, p in events if isinstance(e, Relationship.Event)]
        self._project_schemes(curs, of_schemes)
        copy_rows(
            curs,
            "evaluation_mentees",
            tuple(MENTEE_COLUMNS),
            (
                {"mentee_id": e.originator_id, "registered_at": e.timestamp, **vars(e)}
                for e, _ in of_mentees
            ),
        )
        pairs = fold_pairs(curs, "evaluation_pairs", tuple(PAIR_COLUMNS), of_pairs)
        answers = [
            row
            for event, position in of_pairs
            if isinstance(event, Relationship.FeedbackGiven)
            for row in answer_rows(pairs[event.originator_id], event, position)
        ]
        copy_rows(curs, "evaluation_answers", tuple(ANSWER_COLUMNS), answers)
        project_rounds(curs, [(e, p) for e, p in events if isinstance(e, SurveyRound.Event)])

    @staticmethod
    def _project_schemes(curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        schemes = load_rows(
            curs, "evaluation_schemes", "scheme_id", {e.originator_id for e, _ in events}
        )
        for event, _ in events:
            if isinstance(event, Scheme.Created):
                schemes[event.originator_id] = {
                    "scheme_id": event.originator_id,
                    "created_at": event.timestamp,
                    **{setting: getattr(event, setting) for setting in SCHEME_SETTINGS},
                }
            else:
                changes = {k: v for k, v in event.changes.items() if k in SCHEME_SETTINGS}
                schemes[event.originator_id].update(changes)
            schemes[event.originator_id]["updated_at"] = event.timestamp
        replace_rows(
            curs,
            "evaluation_schemes",
            "scheme_id",
            tuple(SCHEME_COLUMNS),
            schemes,
            ("cohorts", "objectives", "survey"),
        )
