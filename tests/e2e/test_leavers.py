"""Leavers over HTTP on real PostgreSQL, with the worker and relay on a Temporal dev
server: a mentor or mentee who has left the scheme has their open relationships end
`withdrawn`, the mentor's places released, the pairs' workflows (their timers)
ended, no more mail, and cannot be invited or ask for a mentor again."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from services.bootstrap import worker_and_relay
from tests.e2e.client import TODAY, Api
from tests.e2e.conftest import serving
from tests.e2e.test_notifications import send_everything
from tests.workflows.support import dev_server, wait_until
from workflows.devserver import DevServer

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def temporal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server(tmp_path_factory.mktemp("temporal")) as server:
        yield server


@pytest.fixture(scope="module")
def api(postgres_server: str, temporal: DevServer) -> Iterator[Api]:
    """The API, with the worker and the relay running beside it as `mentoring up` runs
    them."""
    with serving(
        postgres_server,
        MENTORING_TEMPORAL_ADDRESS=temporal.address,
        MENTORING_TEMPORAL_TASK_QUEUE="leavers",
    ) as api:
        both = worker_and_relay(api.runtime.settings)
        both.start()
        try:
            yield api
        finally:
            both.stop()
        assert both.error is None


async def workflow_status(temporal: DevServer, relationship_id: str) -> Any:
    client = await Client.connect(temporal.address)
    try:
        return (await client.get_workflow_handle(relationship_id).describe()).status
    except Exception:  # not started yet
        return None


async def running_then_completed(temporal: DevServer, relationship_id: str) -> None:
    await wait_until(
        lambda: _is(temporal, relationship_id, WorkflowExecutionStatus.COMPLETED),
        60,
        f"the workflow of {relationship_id} completed",
    )


async def _is(temporal: DevServer, relationship_id: str, status: Any) -> bool:
    return bool(await workflow_status(temporal, relationship_id) == status)


def pair(api: Api, scheme_id: str, mentor_id: str, email: str, meet: bool = False) -> str:
    mentee_id = api.mentee(scheme_id, email=email)["id"]
    relationship_id = str(api.request(scheme_id, mentee_id)["id"])
    path = f"/v1/relationships/{relationship_id}"
    api.ok(api.admin.post(f"{path}/invite", json={"mentor_id": mentor_id}))
    api.ok(api.admin.post(f"{path}/respond", json={"accept": True}))
    if meet:
        meeting = {"held_on": TODAY, "mode": "phone", "duration_minutes": 30}
        api.ok(api.admin.post(f"{path}/meetings", json=meeting), 201)
    return relationship_id


def relationship(api: Api, relationship_id: str) -> dict[str, Any]:
    return api.ok(api.admin.get(f"/v1/relationships/{relationship_id}"))


async def test_a_mentor_who_leaves_has_their_pairs_withdrawn_and_places_released(
    api: Api, temporal: DevServer, tmp_path: Path
) -> None:
    scheme_id = api.scheme()["id"]
    mentor_id = api.mentor(scheme_id, capacity=3, email="leaving.mentor@example.nhs.uk")["id"]
    matched = pair(api, scheme_id, mentor_id, "first.mentee@example.nhs.uk")
    active = pair(api, scheme_id, mentor_id, "second.mentee@example.nhs.uk", meet=True)
    waiting_mentee = api.mentee(scheme_id, email="third.mentee@example.nhs.uk")["id"]
    invited = api.request(scheme_id, waiting_mentee)["id"]
    invite = {"mentor_id": mentor_id}
    api.ok(api.admin.post(f"/v1/relationships/{invited}/invite", json=invite))
    await wait_until(
        lambda: _is(temporal, active, WorkflowExecutionStatus.RUNNING), 60, "workflows started"
    )
    coordinator = api.as_(api.token("coordinator", scheme_ids=[scheme_id]))

    left = api.ok(coordinator.post(f"/v1/mentors/{mentor_id}/leave"))

    assert left["id"] == mentor_id and left["left_at"]
    for ended in (matched, active):
        record = relationship(api, ended)
        assert (record["state"], record["end_kind"]) == ("ended", "withdrawn")
        await running_then_completed(temporal, ended)
    back = relationship(api, invited)
    assert (back["state"], back["mentor_id"]) == ("requested", None)
    mentor = api.ok(api.admin.get(f"/v1/mentors/{mentor_id}"))
    assert (mentor["load"], mentor["available"], mentor["has_room"]) == (0, False, False)

    again = api.admin.post(f"/v1/relationships/{invited}/invite", json=invite)
    assert again.status_code == 409 and again.json()["reason"] == "left_scheme"
    back_on = api.admin.patch(f"/v1/mentors/{mentor_id}", json={"available": True})
    assert back_on.status_code == 409 and back_on.json()["reason"] == "left_scheme"
    twice = coordinator.post(f"/v1/mentors/{mentor_id}/leave")
    assert twice.status_code == 409 and twice.json()["reason"] == "left_scheme"
    assert relationship(api, invited)["state"] == "requested"

    send_everything(api, tmp_path)
    to_mentor = [
        row
        for row in api.ok_list(api.admin.get("/v1/notifications", params={"scheme_id": scheme_id}))
        if row["recipient_role"] == "mentor"
    ]
    assert to_mentor and {row["status"] for row in to_mentor} == {"skipped"}
    assert {row["last_error"] for row in to_mentor} <= {"left_scheme", "invitation_answered"}
    assert "left_scheme" in {row["last_error"] for row in to_mentor}


async def test_a_mentee_who_leaves_has_their_pair_withdrawn_and_cannot_ask_again(
    api: Api, temporal: DevServer, tmp_path: Path
) -> None:
    scheme_id = api.scheme()["id"]
    mentor_id = api.mentor(scheme_id, capacity=1, email="staying.mentor@example.nhs.uk")["id"]
    mentee_email = "leaving.mentee@example.nhs.uk"
    relationship_id = pair(api, scheme_id, mentor_id, mentee_email, meet=True)
    (mentee_id,) = {relationship(api, relationship_id)["mentee_id"]}
    await wait_until(
        lambda: _is(temporal, relationship_id, WorkflowExecutionStatus.RUNNING),
        60,
        "the workflow started",
    )

    api.ok(api.admin.post(f"/v1/mentees/{mentee_id}/leave"))

    ended = relationship(api, relationship_id)
    assert (ended["state"], ended["end_kind"]) == ("ended", "withdrawn")
    await running_then_completed(temporal, relationship_id)
    mentor = api.ok(api.admin.get(f"/v1/mentors/{mentor_id}"))
    assert (mentor["load"], mentor["has_room"]) == (0, True)  # the place is free again

    asked = api.admin.post(
        "/v1/relationships", json={"scheme_id": scheme_id, "mentee_id": mentee_id}
    )
    assert asked.status_code == 409 and asked.json()["reason"] == "left_scheme"
    rematch = api.admin.post(f"/v1/relationships/{relationship_id}/rematch")
    assert rematch.status_code == 409
    twice = api.admin.post(f"/v1/mentees/{mentee_id}/leave")
    assert twice.status_code == 409 and twice.json()["reason"] == "left_scheme"
    mentee = api.ok(api.admin.get(f"/v1/mentees/{mentee_id}"))
    assert mentee["email"] == mentee_email  # their records stay until retention

    send_everything(api, tmp_path)
    rows = api.ok_list(
        api.admin.get("/v1/notifications", params={"relationship_id": relationship_id})
    )
    to_mentee = [row for row in rows if row["recipient_role"] == "mentee"]
    assert to_mentee and all(
        (row["status"], row["last_error"]) == ("skipped", "left_scheme") for row in to_mentee
    )
    assert any(row["status"] == "sent" for row in rows if row["recipient_role"] == "mentor")


def test_leaving_is_for_staff_and_an_unknown_person_is_404(api: Api) -> None:
    scheme_id = api.scheme()["id"]
    mentee_id = api.mentee(scheme_id, email="stays.put@example.nhs.uk")["id"]
    themselves = api.as_(api.token("mentee", subject_id=mentee_id))
    elsewhere = api.as_(api.token("coordinator", scheme_ids=[api.scheme()["id"]]))

    assert themselves.post(f"/v1/mentees/{mentee_id}/leave").status_code == 403
    assert elsewhere.post(f"/v1/mentees/{mentee_id}/leave").status_code == 404
    unknown = api.admin.post("/v1/mentors/00000000-0000-4000-8000-000000000000/leave")
    assert unknown.status_code == 404
    assert api.ok(api.admin.get(f"/v1/mentees/{mentee_id}"))["open_relationship_id"] is None
