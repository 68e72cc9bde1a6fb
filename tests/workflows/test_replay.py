"""The replay gate: the kept histories of every path (tests/histories, captured by
bench/capture_histories.py) replay without error against the current workflow,
and a deliberately changed copy of it fails, so the gate can fail."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from domain.timers import TIMERS
from tests.workflows.changed_workflow import NotifyFirstWorkflow
from workflows.workflow import RelationshipWorkflow

pytestmark = pytest.mark.anyio

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


async def histories(paths: list[Path]) -> AsyncIterator[WorkflowHistory]:
    for path in paths:
        yield load(path)


def activity_types(path: Path) -> set[str]:
    events = json.loads(path.read_text())["events"]
    return {
        event["activityTaskScheduledEventAttributes"]["activityType"]["name"]
        for event in events
        if "activityTaskScheduledEventAttributes" in event
    }


def test_the_histories_cover_every_timer_path() -> None:
    ran = set().union(*(activity_types(path) for path in HISTORIES))
    commands = {consequence.command for timer in TIMERS for consequence in timer.consequences}
    assert ran >= {*commands, "notify", "invite_next_candidate"}
    assert any(path.stem.endswith("run1") for path in HISTORIES), "no continue-as-new"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
async def test_a_kept_history_replays_against_the_current_workflow(path: Path) -> None:
    await Replayer(workflows=[RelationshipWorkflow]).replay_workflow(load(path))


async def test_a_changed_workflow_fails_to_replay_the_paths_it_changed() -> None:
    fired = [path for path in HISTORIES if activity_types(path) - {"read_scheme_timers"}]
    results = await Replayer(workflows=[NotifyFirstWorkflow]).replay_workflows(
        histories(fired), raise_on_replay_failure=False
    )
    assert fired
    assert len(results.replay_failures) == len(fired)
    for failure in results.replay_failures.values():
        assert isinstance(failure, NondeterminismError)
        assert "does not match" in str(failure)
