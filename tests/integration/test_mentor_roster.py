"""The mentors matchmaking keeps in memory follow the event store: a mentor who
leaves, registers or is erased through another process is seen at the next list of
candidates, as a load of every mentor would see them."""

from typing import Any
from uuid import UUID

import pytest

from domain.actors import Actor
from services.application import Mentoring
from services.persistence import postgres_env

pytestmark = pytest.mark.postgres

ADMIN = Actor("admin", "token-0")


def mentor(app: Mentoring, scheme_id: UUID, name: str) -> UUID:
    body: dict[str, Any] = {
        "scheme_id": scheme_id, "name": f"Dr {name}", "email": f"{name}@nhs.example",
        "grade": "consultant", "specialty": "cardiology", "institution": "York Hospital",
        "interests": ["research"], "capacity": 1, "trained_on": None,
    }  # fmt: skip
    return app.register_mentor(body, ADMIN).aggregate.id


def request(app: Mentoring, scheme_id: UUID) -> UUID:
    body: dict[str, Any] = {
        "scheme_id": scheme_id, "cohort": "2026", "name": "Dr Mentee",
        "email": "mentee@nhs.example", "grade": "CT1", "specialty": "cardiology",
        "specialty_decided": True, "institution": "Leeds General Infirmary",
        "interests": ["research"], "objectives": [], "line_manager_ids": [],
        "demographics": None,
    }  # fmt: skip
    mentee_id = app.register_mentee(body, ADMIN).aggregate.id
    as_mentee = Actor("mentee", str(mentee_id))
    return app.request_mentor(scheme_id, mentee_id, [], as_mentee).aggregate.id


def test_candidates_follow_changes_to_mentors_made_elsewhere(database_url: str) -> None:
    here, elsewhere = (Mentoring(env=postgres_env(database_url)) for _ in range(2))
    try:
        body = {"name": "North deanery", "matching_model": "assigned"}
        scheme_id = here.create_scheme(body, ADMIN).aggregate.id
        ada, ben = mentor(here, scheme_id, "ada"), mentor(here, scheme_id, "ben")
        relationship_id = request(here, scheme_id)

        def candidates() -> set[UUID]:
            return {c.mentor_id for c in here.matchmaking.candidates(relationship_id)}

        assert candidates() == {ada, ben}
        elsewhere.mentor_leaves(ben, ADMIN)
        cy = mentor(elsewhere, scheme_id, "cy")
        assert candidates() == {ada, cy}
        elsewhere.update_mentor(ada, ADMIN, available=False)
        assert candidates() == {cy}
    finally:
        here.close()
        elsewhere.close()
