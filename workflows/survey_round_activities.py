"""The activity of SurveyRoundWorkflow besides the shared `notify`
(workflows.activities): a round's dates, read through a port to the application."""

from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from uuid import UUID

from temporalio import activity

from domain.survey_round import SurveyRound
from workflows.activities import refusals_are_final
from workflows.survey_round_model import OUTBOX_AUDIENCE, READ_SURVEY_ROUND, RoundSchedule


def schedule_of(survey_round: SurveyRound) -> RoundSchedule:
    """A round is open from the start of `opens_on` to the end of `closes_on`, UTC."""
    return RoundSchedule(
        round_id=str(survey_round.id),
        audience=OUTBOX_AUDIENCE[survey_round.audience.value],
        opens_at=datetime.combine(survey_round.opens_on, time(), UTC),
        closes_at=datetime.combine(survey_round.closes_on + timedelta(days=1), time(), UTC),
    )


class RoundReader(Protocol):
    """What the activity needs of the application: a round by its id (raises
    domain.errors.NotFound)."""

    def __call__(self, round_id: UUID, /) -> SurveyRound: ...


class SurveyRoundActivities:
    """The activity of SurveyRoundWorkflow besides the shared `notify`: reading a
    round's dates through `get_round` (the application's SurveyRounds.get)."""

    def __init__(self, get_round: RoundReader) -> None:
        self.get_round = get_round

    def all(self) -> list[Any]:
        return [self.read_survey_round]

    @activity.defn(name=READ_SURVEY_ROUND)
    @refusals_are_final
    def read_survey_round(self, round_id: str) -> RoundSchedule:
        return schedule_of(self.get_round(UUID(round_id)))
