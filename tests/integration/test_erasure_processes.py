"""An erasure made by one API process holds in the others (`mentoring up --workers
N`): a process that read a pair before the erasure, and so holds it in its aggregate
cache with the match rationale and the pause reason decrypted, shows the pair
without them afterwards, as the process that erased does (the `PartyErased` event
recorded on the pair in the same write as the erasure)."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.actors import Actor
from services import bootstrap
from services.api.app import create_app
from services.persistence import create_cipher_key
from services.runtime import Runtime
from tests.support.mentoring import mentee_profile, mentor_profile, scheme_settings
from tests.support.settings import settings_for

pytestmark = pytest.mark.postgres

ADMIN_TOKEN = "mtk_erasure-two-processes"
ADMIN = Actor("admin", "admin-1")
OBJECTIVE = "Lead a quality improvement project on heart failure clinics"
AS_ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def runtimes(database_url: str) -> Iterator[tuple[Runtime, Runtime]]:
    settings = settings_for(database_url, create_cipher_key(), MENTORING_ADMIN_TOKEN=ADMIN_TOKEN)
    first = bootstrap.build_runtime(settings)
    second = bootstrap.build_worker_runtime(settings)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def ended_pair(runtime: Runtime) -> tuple[UUID, UUID]:
    """(mentee id, relationship id) of a pair matched on the mentee's objective, paused
    for a reason, and ended."""
    app = runtime.mentoring
    scheme_id = app.create_scheme(
        scheme_settings(cohorts=[{"name": "2026", "eligible_count": 10}]), ADMIN
    ).aggregate.id
    mentor_id = app.register_mentor(
        mentor_profile(scheme_id, interests=["quality improvement"]), ADMIN
    ).aggregate.id
    mentee_id = app.register_mentee(
        mentee_profile(scheme_id, "2026", objectives=[OBJECTIVE]), ADMIN
    ).aggregate.id
    relationship_id = app.request_mentor(
        scheme_id, mentee_id, [], Actor("mentee", str(mentee_id))
    ).aggregate.id
    app.invite_mentor(relationship_id, mentor_id, ADMIN)
    app.respond_to_invitation(relationship_id, True, Actor("mentor", str(mentor_id)))
    app.pause(relationship_id, "sickness", None, ADMIN)
    app.end(relationship_id, "no_blame", None, ADMIN)
    return mentee_id, relationship_id


def shown(client: TestClient, relationship_id: UUID) -> dict[str, Any]:
    answer = client.get(f"/v1/relationships/{relationship_id}", headers=AS_ADMIN)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_other_process_shows_the_pair_without_rationale_or_pause_reason(
    runtimes: tuple[Runtime, Runtime],
) -> None:
    eraser, other = runtimes
    mentee_id, relationship_id = ended_pair(eraser)
    with TestClient(create_app(eraser)) as erasing, TestClient(create_app(other)) as elsewhere:
        # The other process reads the pair while the keys are there: it keeps it.
        before = shown(elsewhere, relationship_id)
        assert before["rationale"] and before["pause_reason"] == "sickness"

        erased = erasing.post(
            f"/v1/people/{mentee_id}/erase",
            json={"reason": "subject request SR-7"},
            headers=AS_ADMIN,
        )
        assert erased.status_code == 200, erased.text

        for client in (elsewhere, erasing):
            after = shown(client, relationship_id)
            assert (after["rationale"], after["pause_reason"]) == (None, None)
            assert (after["state"], after["mentor_id"]) == (before["state"], before["mentor_id"])
        assert OBJECTIVE not in str(other.mentoring.get_relationship(relationship_id).__dict__)
        events = elsewhere.get(f"/v1/relationships/{relationship_id}/events", headers=AS_ADMIN)
        assert [e["type"] for e in events.json()][-1] == "PartyErased"
        assert events.json()[-1]["details"] == {"party": "mentee"}
