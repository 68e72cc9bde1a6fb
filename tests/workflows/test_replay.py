"""The replay gate: the kept histories of every path (tests/histories, captured by
bench/capture_histories.py, and tests/histories/activity-tasks, those captured
before the workflow ran its activities as local activities) replay without error
against the current workflow, and a deliberately changed copy of it fails, so the
gate can fail."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.timers import TIMERS
from tests.workflows import harness
from tests.workflows.changed_workflow import NotifyFirstWorkflow
from workflows.workflow import RelationshipWorkflow

pytestmark = pytest.mark.anyio

KEPT = Path(__file__).parents[1] / "histories"
LOCAL_ACTIVITIES = sorted(KEPT.glob("*.json"))
ACTIVITY_TASKS = sorted((KEPT / "activity-tasks").glob("*.json"))
HISTORIES = LOCAL_ACTIVITIES + ACTIVITY_TASKS


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


async def histories(paths: list[Path]) -> AsyncIterator[WorkflowHistory]:
    for path in paths:
        yield load(path)


def activity_types(path: Path) -> set[str]:
    return set(harness.activity_types(json.loads(path.read_text())["events"]))


@pytest.mark.parametrize(
    ("kept", "beside_the_commands"),
    [
        (LOCAL_ACTIVITIES, {"notify"}),
        (ACTIVITY_TASKS, {"notify", "invite_next_candidate"}),
    ],
    ids=["local activities", "activity tasks"],
)
def test_the_histories_cover_every_timer_path(
    kept: list[Path], beside_the_commands: set[str]
) -> None:
    ran = set().union(*(activity_types(path) for path in kept))
    commands = {consequence.command for timer in TIMERS for consequence in timer.consequences}
    assert ran >= {*commands, *beside_the_commands}
    assert any(path.stem.endswith("run1") for path in kept), "no continue-as-new"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.stem)
async def test_a_kept_history_replays_against_the_current_workflow(path: Path) -> None:
    await Replayer(workflows=[RelationshipWorkflow]).replay_workflow(load(path))


@pytest.mark.parametrize(
    ("kept", "failure"),
    [
        # A local activity's result is matched to its call by order alone, so the
        # changed order shows as a result of the wrong type (notify's answer is a
        # bool, the command's an Outcome).
        (LOCAL_ACTIVITIES, "Failed decoding arguments"),
        (ACTIVITY_TASKS, "does not match"),
    ],
    ids=["local activities", "activity tasks"],
)
async def test_a_changed_workflow_fails_to_replay_the_paths_it_changed(
    kept: list[Path], failure: str
) -> None:
    fired = [path for path in kept if activity_types(path) - {"read_scheme_timers"}]
    results = await Replayer(workflows=[NotifyFirstWorkflow]).replay_workflows(
        histories(fired), raise_on_replay_failure=False
    )
    assert fired
    assert len(results.replay_failures) == len(fired)
    for error in results.replay_failures.values():
        assert failure in str(error)
