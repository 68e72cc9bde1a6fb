"""Retention: the one `retention` workflow erases, once a day on Temporal's timer,
everyone whose relationships all ended longer ago than their scheme's
`retention_after_end` (services.erasure.erase_expired, given to the activity by the
composition root). Each erasure is recorded as the system's act under that rule.

The workflow passes its own time to the activity, so a time-skipping test server's
clock is the one the rule is judged by. It continues as new every ROUNDS days to
keep its history short. Its id and payloads hold no personal data: a time and a
count.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy

RETENTION_WORKFLOW_ID = "retention"
ERASE_EXPIRED = "erase_expired"
CHECK_EVERY = timedelta(days=1)
ROUNDS = 90
ACTIVITY_TIMEOUT = timedelta(minutes=30)
ACTIVITY_RETRIES = RetryPolicy(maximum_interval=timedelta(minutes=5))


class RetentionActivities:
    """The activity of RetentionWorkflow: `erase_expired(now)` erases everyone due at
    `now` and answers how many."""

    def __init__(self, erase_expired: Callable[[datetime], int]) -> None:
        self._erase_expired = erase_expired

    def all(self) -> list[Callable[..., int]]:
        return [self.erase_expired]

    @activity.defn(name=ERASE_EXPIRED)
    def erase_expired(self, now: str) -> int:
        return self._erase_expired(datetime.fromisoformat(now))


@workflow.defn(name="Retention")
class RetentionWorkflow:
    """Every CHECK_EVERY, erase whoever the retention rule has come due for."""

    def __init__(self) -> None:
        self.erased = 0

    @workflow.run
    async def run(self, rounds: int = ROUNDS) -> None:
        for _ in range(rounds):
            self.erased += await workflow.execute_activity(
                ERASE_EXPIRED,
                workflow.now().isoformat(),
                result_type=int,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRIES,
            )
            await workflow.sleep(CHECK_EVERY)
        workflow.continue_as_new(rounds)

    @workflow.query
    def erased_so_far(self) -> int:
        """How many people this run has erased (since it last continued as new)."""
        return self.erased


async def start_retention(client: Client, task_queue: str) -> None:
    """Start the retention workflow unless it is running already."""
    await client.start_workflow(
        RetentionWorkflow.run,
        ROUNDS,
        id=RETENTION_WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
