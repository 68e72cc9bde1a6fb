"""SurveyRoundWorkflow: one per survey round, the timers of its emails.

The relay starts it when a round is scheduled (workflow id `survey-round-<round
id>`: ids only). It reads the round's dates, then at the start of `opens_on` (UTC)
records the notice that invites everyone in scope, REMIND_BEFORE_CLOSE before the
round closes the reminder (the sender sends it to those who have not answered by
then), and ends when the round closes at the end of `closes_on`. Who is asked and
who has answered stay in the event store: the sender reads them from the round.
"""

from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.model import NOTIFY, Notice
    from workflows.survey_round_model import (
        OPENED,
        READ_SURVEY_ROUND,
        REMINDER,
        SURVEY_ROUND_WORKFLOW,
        RoundSchedule,
    )

R = TypeVar("R")

ACTIVITY_TIMEOUT = timedelta(seconds=15)
ACTIVITY_RETRIES = RetryPolicy(maximum_interval=timedelta(minutes=1))


@workflow.defn(name=SURVEY_ROUND_WORKFLOW)
class SurveyRoundWorkflow:
    """Opens, reminds and closes one survey round (module docstring). Started late
    (Temporal was down), it sends what is still useful: no invitation after the
    close, no reminder after the invitation if the reminder's time has passed."""

    @workflow.run
    async def run(self, round_id: str) -> None:
        schedule = await self._activity(READ_SURVEY_ROUND, round_id, RoundSchedule)
        if workflow.now() >= schedule.closes_at:
            return
        await self._until(schedule.opens_at)
        await self._notify(schedule, OPENED)
        remind_at = schedule.remind_at
        if remind_at is not None and workflow.now() < remind_at:
            await self._until(remind_at)
            await self._notify(schedule, REMINDER)
        await self._until(schedule.closes_at)

    async def _until(self, instant: datetime) -> None:
        wait = (instant - workflow.now()).total_seconds()
        if wait > 0:
            await workflow.sleep(wait)

    async def _notify(self, schedule: RoundSchedule, kind: str) -> None:
        notice = Notice(schedule.round_id, schedule.audience, kind, kind)
        await self._activity(NOTIFY, notice, bool)

    async def _activity(self, name: str, argument: object, result_type: type[R]) -> R:
        result: R = await workflow.execute_activity(
            name,
            argument,
            result_type=result_type,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRIES,
        )
        return result
