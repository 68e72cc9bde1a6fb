"""The worker: runs RelationshipWorkflow and its activities on a task queue."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from workflows.activities import RelationshipActivities
from workflows.retention import RetentionActivities, RetentionWorkflow
from workflows.survey_round import SurveyRoundWorkflow
from workflows.survey_round_activities import SurveyRoundActivities
from workflows.workflow import RelationshipWorkflow

# Activities are short database transactions, each on a thread of its own: the
# application they call needs a database connection for each (services.bootstrap).
MAX_CONCURRENT_ACTIVITIES = 16
SHUTDOWN_GRACE = timedelta(seconds=20)


async def run_worker(
    client: Client,
    activities: RelationshipActivities,
    stop: asyncio.Event,
    *,
    task_queue: str,
    max_concurrent_activities: int = MAX_CONCURRENT_ACTIVITIES,
    survey_rounds: SurveyRoundActivities | None = None,
    retention: RetentionActivities | None = None,
) -> None:
    """Run workflows and `activities` on `task_queue` until `stop` is set; with
    `survey_rounds`, the survey rounds' workflow and activities too; with
    `retention`, the retention workflow (workflows.retention) too."""
    with ThreadPoolExecutor(max_workers=max_concurrent_activities) as executor:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[RelationshipWorkflow, SurveyRoundWorkflow, RetentionWorkflow],
            activities=activities.all()
            + (survey_rounds.all() if survey_rounds else [])
            + (retention.all() if retention else []),
            activity_executor=executor,
            max_concurrent_activities=max_concurrent_activities,
            # RelationshipWorkflow runs its activities as local activities, on the
            # same threads.
            max_concurrent_local_activities=max_concurrent_activities,
            # Let activities under way finish: cancelling a thread mid-query
            # would leave its database connection broken.
            graceful_shutdown_timeout=SHUTDOWN_GRACE,
        )
        async with worker:
            await stop.wait()
