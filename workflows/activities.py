"""Activities: one-line, idempotent adapters over the application's timer commands
(workflows.ports.TimerCommands), named after the commands of domain.timers.

Each command re-reads the relationship and records nothing when the fact its
timer counted from has changed (a meeting was logged while the timer fired): it
answers UNCHANGED. It answers RECORDED when the consequence is recorded, including
by an earlier try, so a retry after a crash changes nothing. A refusal by the
domain or an unknown id becomes a non-retryable error; anything else (the
database is down, a write that kept conflicting) is retried by Temporal.
"""

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.errors import DomainError, NotFound
from domain.timers import Outcome, setting_seconds
from workflows.model import NOTIFY, READ_SCHEME_TIMERS, Notice, SchemeTimers, TimerDue
from workflows.outbox import Outbox
from workflows.ports import TimerCommands

P = ParamSpec("P")
R = TypeVar("R")


def refusals_are_final(adapter: Callable[P, R]) -> Callable[P, R]:
    """Domain refusals and unknown ids will not change on retry: fail for good."""

    @functools.wraps(adapter)
    def final(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return adapter(*args, **kwargs)
        except (DomainError, NotFound) as error:
            raise ApplicationError(
                str(error), type=type(error).__name__, non_retryable=True
            ) from None

    return final


class RelationshipActivities:
    """The activities of RelationshipWorkflow, bound to the application's timer
    commands and the outbox."""

    def __init__(self, mentoring: TimerCommands, outbox: Outbox) -> None:
        self.mentoring = mentoring
        self.outbox = outbox

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.read_scheme_timers,
            self.flag_stalled,
            self.lapse_invitation,
            self.notify_pick_overdue,
            self.escalate,
            self.mark_midpoint_due,
            self.mark_end_due,
            self.complete,
            self.notify,
        ]

    @activity.defn(name=READ_SCHEME_TIMERS)
    @refusals_are_final
    def read_scheme_timers(self, relationship_id: str) -> SchemeTimers:
        """The timer settings of the relationship's scheme, in seconds."""
        relationship = self.mentoring.get_relationship(UUID(relationship_id))
        scheme = self.mentoring.get_scheme(relationship.scheme_id)
        return SchemeTimers(setting_seconds(scheme), scheme.matching_model, relationship.is_open)

    @activity.defn
    @refusals_are_final
    def flag_stalled(self, due: TimerDue) -> Outcome:
        return self.mentoring.flag_stalled(UUID(due.relationship_id), due.timer, due.basis)

    @activity.defn
    @refusals_are_final
    def lapse_invitation(self, due: TimerDue) -> Outcome:
        return self.mentoring.lapse_invitation(UUID(due.relationship_id), due.basis)

    @activity.defn
    @refusals_are_final
    def notify_pick_overdue(self, due: TimerDue) -> Outcome:
        return self.mentoring.notify_pick_overdue(UUID(due.relationship_id), due.basis)

    @activity.defn
    @refusals_are_final
    def escalate(self, due: TimerDue) -> Outcome:
        return self.mentoring.escalate(UUID(due.relationship_id), due.basis)

    @activity.defn
    @refusals_are_final
    def mark_midpoint_due(self, due: TimerDue) -> Outcome:
        return self.mentoring.mark_midpoint_due(UUID(due.relationship_id), due.basis)

    @activity.defn
    @refusals_are_final
    def mark_end_due(self, due: TimerDue) -> Outcome:
        return self.mentoring.mark_end_due(UUID(due.relationship_id), due.basis)

    @activity.defn
    @refusals_are_final
    def complete(self, due: TimerDue) -> Outcome:
        return self.mentoring.complete(UUID(due.relationship_id), due.basis)

    @activity.defn(name=NOTIFY)
    def notify(self, notice: Notice) -> bool:
        """Record a notice in the outbox (once per key); answers whether it is new."""
        return self.outbox.record(notice)
