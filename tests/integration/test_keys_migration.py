"""`mentoring keys migrate` on an event store written by the previous release
(tests/fixtures/previous-release.sql): afterwards no personal field is stored in
the clear, every aggregate loads with the same values, the projections rebuild to
the same reports and the audit chain verifies, and running it again changes
nothing."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest

from domain.people import Mentee, Mentor
from projections.runner import verify_audit
from services.cli import main
from services.key_migration import migrate_keys
from tests.integration.test_previous_release import restore
from tests.support.databases import scratch_database
from tests.support.mentoring import mentoring, project, rows

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres_server: str) -> Iterator[str]:
    with scratch_database(postgres_server) as url:
        restore(url)
        yield url


def people(database_url: str) -> dict[UUID, tuple[Any, ...]]:
    with mentoring(database_url) as app:
        found: dict[UUID, tuple[Any, ...]] = {}
        for _, mentor in app.all_of(Mentor):
            found[mentor.id] = (mentor.name, mentor.email)
        for _, mentee in app.all_of(Mentee):
            found[mentee.id] = (mentee.name, mentee.email, mentee.objectives)
        return found


def stored_states(database_url: str) -> bytes:
    return b"".join(
        bytes(row[0]) for row in rows(database_url, "SELECT state FROM mentoring_events")
    )


def test_keys_migrate_seals_the_previous_releases_personal_fields(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = people(database)
    emails = [values[1] for values in before.values()]
    names = [values[0] for values in before.values()]
    assert emails and all(email.encode() in stored_states(database) for email in emails)
    project(database, batch_size=500)
    reports_before = rows(database, "SELECT * FROM reporting.evaluation ORDER BY 1, 2")

    monkeypatch.setenv("MENTORING_DATABASE_URL", database)
    assert main(["keys", "migrate"]) == 0
    assert "events sealed" in capsys.readouterr().out

    states = stored_states(database)
    assert not [email for email in emails if email.encode() in states]
    assert not [name for name in names if f'"{name}"'.encode() in states]
    assert people(database) == before
    assert rows(database, "SELECT count(*) FROM person_keys")[0][0] >= len(before)
    with mentoring(database) as app:
        assert migrate_keys(app).events_sealed == 0

    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute("DROP SCHEMA reporting CASCADE")
    project(database, batch_size=500)
    assert rows(database, "SELECT * FROM reporting.evaluation ORDER BY 1, 2") == reports_before
    assert verify_audit(database)["ok"]
