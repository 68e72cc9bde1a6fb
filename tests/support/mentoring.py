"""Driving the Mentoring application on PostgreSQL in tests: profiles with sensible
defaults, and the application and projections on a test database."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg

from domain.actors import Actor
from services import bootstrap
from services.application import Mentoring
from services.persistence import postgres_env
from tests.support.settings import settings_for

ADMIN = Actor("admin", "admin-1")
COORDINATOR = Actor("coordinator", "coordinator-1")


def system(timer: str) -> Actor:
    return Actor.system(timer)


def scheme_settings(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "name": "North West CMT mentoring",
        "matching_model": "assigned",
        "require_mentor_acceptance": True,
        "cohorts": [],
        "objectives": [],
        "survey": [],
    }
    return settings | overrides


def mentor_profile(scheme_id: UUID, **overrides: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "scheme_id": scheme_id,
        "name": "Dr Mentor",
        "email": "mentor@example.nhs.uk",
        "grade": "consultant",
        "specialty": "cardiology",
        "institution": "Royal Infirmary",
        "interests": ["research"],
        "capacity": 1,
        "trained_on": None,
    }
    return profile | overrides


def mentee_profile(scheme_id: UUID, cohort: str, **overrides: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "scheme_id": scheme_id,
        "cohort": cohort,
        "name": "Dr Mentee",
        "email": "mentee@example.nhs.uk",
        "grade": "CT1",
        "specialty": "cardiology",
        "specialty_decided": True,
        "institution": "General Hospital",
        "interests": ["research"],
        "objectives": ["apply for ST3"],
        "line_manager_ids": [],
        "demographics": None,
    }
    return profile | overrides


@contextmanager
def mentoring(database_url: str, cipher_key: str | None = None) -> Iterator[Mentoring]:
    app = Mentoring(env=postgres_env(database_url, cipher_key) | {"POSTGRES_POOL_SIZE": "2"})
    try:
        yield app
    finally:
        app.close()


def project(
    database_url: str, cipher_key: str | None = None, batch_size: int = 7
) -> dict[str, int]:
    """Bring every projection up to the head; by default in small batches, so that
    the tests cross many batch boundaries."""
    return bootstrap.catch_up(settings_for(database_url, cipher_key), batch_size=batch_size)


def rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as connection:
        return connection.execute(query, params or None).fetchall()
