"""What crosses the Temporal boundary for a survey round: its workflow id, the
activity's name and the schedule it answers. Ids and instants only."""

from dataclasses import dataclass
from datetime import datetime, timedelta

SURVEY_ROUND_WORKFLOW = "SurveyRoundWorkflow"
READ_SURVEY_ROUND = "read_survey_round"
OPENED, REMINDER = "survey_round_opened", "survey_round_reminder"
REMIND_BEFORE_CLOSE = timedelta(days=2)

# Whom a round's notices are for, in the outbox's terms (workflows.outbox.AUDIENCES).
OUTBOX_AUDIENCE = {"mentee": "mentee", "mentor": "mentor", "both": "pair"}


def workflow_id(round_id: str) -> str:
    """`survey-round-<round id>`: never anything about a person."""
    return f"survey-round-{round_id}"


@dataclass(frozen=True)
class RoundSchedule:
    """When a round opens and closes (UTC instants), and whom its notices are for."""

    round_id: str
    audience: str
    opens_at: datetime
    closes_at: datetime

    @property
    def remind_at(self) -> datetime | None:
        """REMIND_BEFORE_CLOSE before the close; None for a round shorter than that."""
        at = self.closes_at - REMIND_BEFORE_CLOSE
        return at if at > self.opens_at else None
