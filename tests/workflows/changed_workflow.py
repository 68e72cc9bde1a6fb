"""RelationshipWorkflow with the kind of edit that breaks workflows already running:
it tells the outbox before recording what the timer caused. Replaying the kept
histories against it must fail, so the replay gate is known to be able to fail."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.timers import TIMER, Outcome
    from workflows.clock import RelationshipClock, RelationshipWorkflowInput, Timer
    from workflows.model import WORKFLOW_NAME, TimerDue
    from workflows.workflow import RelationshipWorkflow


@workflow.defn(name=WORKFLOW_NAME)
class NotifyFirstWorkflow(RelationshipWorkflow):
    @workflow.run
    async def run(self, start: RelationshipWorkflowInput) -> None:
        await super().run(start)

    async def _fire(self, clock: RelationshipClock, timer: Timer) -> None:
        clock.take(timer)
        due = TimerDue(clock.relationship_id, timer.name, timer.basis)
        first = TIMER[timer.name].consequences[0]
        await self._notify(due, first)
        await self._activity(first.command, due, Outcome, refused=Outcome.UNCHANGED)
