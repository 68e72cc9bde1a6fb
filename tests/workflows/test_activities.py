"""The activities on their own: one per command of the timer table, each a thin
adapter whose refusals end Temporal's retries."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast
from uuid import uuid4

import pytest
from temporalio.activity import _Definition
from temporalio.exceptions import ApplicationError

from domain.errors import NotFound
from domain.timers import TIMERS, Outcome
from workflows.activities import RelationshipActivities
from workflows.model import TimerDue
from workflows.outbox import Outbox
from workflows.ports import TimerCommands


def activity_name(function: Callable[..., Any]) -> str:
    definition = _Definition.from_callable(function)
    assert definition is not None, f"{function} is not an activity"
    return str(definition.name)


class Commands:
    """Answers every timer command with what it was asked, or raises `refusal`."""

    def __init__(self, refusal: Exception | None = None) -> None:
        self.refusal = refusal
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def __getattr__(self, command: str) -> Callable[..., Outcome]:
        def run(*args: object) -> Outcome:
            self.calls.append((command, args))
            if self.refusal:
                raise self.refusal
            return Outcome.RECORDED

        return run


def activities(commands: Commands) -> RelationshipActivities:
    return RelationshipActivities(cast(TimerCommands, commands), cast(Outbox, None))


def test_every_command_of_the_timer_table_is_an_activity_and_a_port_method() -> None:
    registered = {activity_name(function) for function in activities(Commands()).all()}
    for timer in TIMERS:
        for consequence in timer.consequences:
            assert consequence.command in registered, consequence.command
            assert callable(getattr(TimerCommands, consequence.command, None))


def test_an_activity_hands_the_timer_and_the_fact_it_counted_from_to_its_command() -> None:
    commands = Commands()
    relationship_id, basis = uuid4(), datetime(2026, 3, 1, tzinfo=UTC)
    due = TimerDue(str(relationship_id), "first_meeting_within", basis)
    assert activities(commands).flag_stalled(due) == Outcome.RECORDED
    assert activities(commands).escalate(due) == Outcome.RECORDED
    assert commands.calls == [
        ("flag_stalled", (relationship_id, "first_meeting_within", basis)),
        ("escalate", (relationship_id, basis)),
    ]


def test_an_unknown_relationship_ends_the_retries() -> None:
    relationship_id = uuid4()
    commands = Commands(refusal=NotFound("relationship", relationship_id))
    due = TimerDue(str(relationship_id), "midpoint", datetime(2026, 3, 1, tzinfo=UTC))
    with pytest.raises(ApplicationError) as refused:
        activities(commands).mark_midpoint_due(due)
    assert refused.value.non_retryable and refused.value.type == "NotFound"


def test_anything_else_is_left_for_temporal_to_retry() -> None:
    commands = Commands(refusal=ConnectionError("the database is down"))
    due = TimerDue(str(uuid4()), "midpoint", datetime(2026, 3, 1, tzinfo=UTC))
    with pytest.raises(ConnectionError):
        activities(commands).mark_midpoint_due(due)
