"""Retention on the time-skipping test server: the retention workflow erases a
mentee whose only relationship ended longer ago than the scheme's
`retention_after_end`, on Temporal's timer and not a day before, as the system's
act under that rule; someone with an open relationship, someone who never had one
and someone in a scheme without the setting are kept."""

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool
from temporalio.worker import Worker

from domain.actors import Actor
from domain.people import Mentee
from services.application import Mentoring
from services.erasure import RETENTION_RULE, erase_expired
from tests.support.mentoring import mentee_profile, scheme_settings
from tests.workflows.harness import Harness
from workflows.retention import (
    RETENTION_WORKFLOW_ID,
    RetentionActivities,
    RetentionWorkflow,
    start_retention,
)

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

STAFF = Actor("admin", "token-1")


@pytest.fixture
async def retention(harness: Harness, database_url: str) -> AsyncIterator[str]:
    """A worker of the retention workflow beside the harness's, and the workflow
    started; yields its task queue."""
    task_queue = f"{harness.task_queue}-retention"
    pool = ConnectionPool(database_url, min_size=1, max_size=2, open=True)
    activities = RetentionActivities(partial(erase_expired, harness.mentoring, pool))
    try:
        with ThreadPoolExecutor(max_workers=2) as executor:
            async with Worker(
                harness.client,
                task_queue=task_queue,
                workflows=[RetentionWorkflow],
                activities=activities.all(),
                activity_executor=executor,
            ):
                await start_retention(harness.client, task_queue)
                yield task_queue
    finally:
        pool.close()


def mentee(app: Mentoring, scheme_id: UUID, name: str) -> UUID:
    profile = mentee_profile(scheme_id, "", name=name, email=f"{name.lower()}@example.nhs.uk")
    return app.register_mentee(profile, STAFF).aggregate.id


def erased(app: Mentoring, mentee_id: UUID) -> bool:
    return app.get_mentee(mentee_id).erased


async def test_retention_erases_a_person_whose_relationships_ended_long_enough_ago(
    harness: Harness, retention: str
) -> None:
    app = harness.mentoring
    await harness.now()
    kept = app.create_scheme(scheme_settings(name="Kept"), STAFF).aggregate
    scheme = app.create_scheme(scheme_settings(retention_after_end="P30D"), STAFF).aggregate
    assert scheme.retention() == timedelta(days=30)
    leaver = mentee(app, scheme.id, "Leaver")
    waiting = mentee(app, scheme.id, "Waiting")
    never = mentee(app, scheme.id, "Never")
    elsewhere = mentee(app, kept.id, "Elsewhere")
    for person_id, scheme_id in ((leaver, scheme.id), (waiting, scheme.id), (elsewhere, kept.id)):
        app.request_mentor(scheme_id, person_id, [], STAFF)
    for person_id in (leaver, elsewhere):
        relationship_id = app.get_mentee(person_id).open_relationship_id
        assert relationship_id is not None
        app.end(relationship_id, "withdrawn", None, STAFF)

    await harness.env.sleep(timedelta(days=29))
    assert not erased(app, leaver)

    await harness.env.sleep(timedelta(days=2))
    assert erased(app, leaver)
    assert app.get_mentee(leaver).name == "erased"
    assert not any(erased(app, person) for person in (waiting, never, elsewhere))
    record = list(app.events.get(leaver))[-1]
    assert isinstance(record, Mentee.Erased)
    assert record.actor == Actor.system(RETENTION_RULE)
    assert record.reason == f"{RETENTION_RULE} P30D"
    handle = harness.client.get_workflow_handle(RETENTION_WORKFLOW_ID)
    assert await handle.query(RetentionWorkflow.erased_so_far) == 1

    # Later rounds change nothing more.
    await harness.env.sleep(timedelta(days=3))
    assert await handle.query(RetentionWorkflow.erased_so_far) == 1
    assert not erased(app, waiting)
