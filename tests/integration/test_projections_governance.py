"""Governance: the audit chain shows tampering, the reporter database role reads
aggregates and non-sealed columns only, and reads of personal records are logged."""

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from projections import queries, runner
from projections.access_log import access_log, create_access_log, record_access
from projections.audit import chain_hash
from projections.schema import create_reporter_role, drop_reporter_role
from services import bootstrap
from tests.support.clock import Clock
from tests.support.databases import scratch_database
from tests.support.mentoring import mentoring, project
from tests.support.scripted_scheme import ScriptedScheme, play
from tests.support.settings import settings_for

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def scripted_database(postgres_server: str) -> Iterator[tuple[str, ScriptedScheme]]:
    with scratch_database(postgres_server) as url:
        with mentoring(url) as app:
            script = play(app, Clock())
        project(url, batch_size=500)
        yield url, script


@pytest.fixture
def database_url(scripted_database: tuple[str, ScriptedScheme]) -> Iterator[str]:
    """The scripted scheme's database; a test may tamper with the audit log, which is
    rebuilt from the events afterwards."""
    yield scripted_database[0]
    bootstrap.rebuild(settings_for(scripted_database[0]), "audit_log")


@pytest.fixture
def scripted(scripted_database: tuple[str, ScriptedScheme]) -> ScriptedScheme:
    return scripted_database[1]


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def test_audit_verify_passes_then_names_the_row_altered_with_sql(
    scripted: ScriptedScheme, conn: psycopg.Connection[Any], database_url: str
) -> None:
    rows = scripted.position
    assert runner.verify_audit(database_url) == {
        "ok": True,
        "rows": rows,
        "complete": True,
        "lag": 0,
        "first_bad_row": None,
    }
    conn.execute(
        "UPDATE reporting.audit_log SET details = jsonb_set(details, '{kind}', '\"completed\"') "
        "WHERE event_type = 'Relationship.Ended' AND details ->> 'kind' = 'no_blame'"
    )
    altered = conn.execute(
        "SELECT position FROM reporting.audit_log WHERE event_type = 'Relationship.Ended' "
        "ORDER BY position LIMIT 1"
    ).fetchone()
    assert altered is not None
    assert runner.verify_audit(database_url) == {
        "ok": False,
        "rows": altered[0],
        "complete": True,
        "lag": 0,
        "first_bad_row": altered[0],
    }


def test_rehashing_an_altered_row_breaks_the_link_to_the_next(
    scripted: ScriptedScheme, conn: psycopg.Connection[Any]
) -> None:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as curs:
        row = curs.execute("SELECT * FROM reporting.audit_log WHERE position = 10").fetchone()
        assert row is not None
        row["actor_id"] = "someone-else"
        curs.execute(
            "UPDATE reporting.audit_log SET actor_id = %s, hash = %s WHERE position = 10",
            (row["actor_id"], chain_hash(row["previous_hash"], row)),
        )
    assert queries.verify_audit(conn) == {
        "ok": False,
        "rows": 11,
        "complete": True,
        "lag": 0,
        "first_bad_row": 11,
    }


def test_a_deleted_audit_row_is_found(
    scripted: ScriptedScheme, conn: psycopg.Connection[Any]
) -> None:
    conn.execute("DELETE FROM reporting.audit_log WHERE position = 5")
    assert queries.verify_audit(conn)["first_bad_row"] == 6


@pytest.fixture
def reporter(conn: psycopg.Connection[Any]) -> Iterator[str]:
    """A reporter role of this test's own (roles belong to the whole server)."""
    role = f"reporter_{uuid.uuid4().hex[:10]}"
    create_reporter_role(conn, role)
    try:
        yield role
    finally:
        drop_reporter_role(conn, role)


def as_role(conn: psycopg.Connection[Any], role: str, query: str) -> list[tuple[Any, ...]]:
    with conn.transaction():
        conn.execute(psycopg.sql.SQL("SET LOCAL ROLE {0}").format(psycopg.sql.Identifier(role)))
        # SET ROLE does not apply the role's own settings (its jit = off).
        conn.execute("SET LOCAL jit = off")
        return conn.execute(query).fetchall()


def test_reporter_reads_reports_but_not_sealed_fields_or_personal_data(
    scripted: ScriptedScheme, conn: psycopg.Connection[Any], reporter: str
) -> None:
    count = as_role(conn, reporter, "SELECT count(*) FROM reporting.evaluation")
    assert count[0][0] > 0
    assert as_role(conn, reporter, "SELECT count(*) FROM reporting.equity")[0][0] > 0
    assert as_role(conn, reporter, "SELECT count(*) FROM reporting.relationships") == [(5,)]
    assert len(as_role(conn, reporter, "SELECT * FROM reporting.relationships")) == 5
    visible = as_role(
        conn, reporter, "SELECT position, event_type, actor_role, details FROM reporting.audit_log"
    )
    assert len(visible) == scripted.position
    refused = [
        "SELECT sealed FROM reporting.audit_log",
        "SELECT * FROM reporting.audit_log",
        "SELECT demographics FROM reporting.equity_mentees",
        "SELECT demographics FROM reporting.equity_anonymous",
        "SELECT pause_reason FROM reporting.relationship_pauses",
        "SELECT name, email FROM reporting.mentor_profiles",
        "SELECT * FROM public.mentoring_events",
        "DELETE FROM reporting.relationships",
        "UPDATE reporting.audit_log SET actor_id = 'x' RETURNING position",
    ]
    for query in refused:
        with pytest.raises(errors.InsufficientPrivilege):
            as_role(conn, reporter, query)


def test_grants_survive_a_rebuild(
    scripted: ScriptedScheme, conn: psycopg.Connection[Any], database_url: str, reporter: str
) -> None:
    bootstrap.rebuild(settings_for(database_url), "audit_log")
    assert as_role(conn, reporter, "SELECT count(position) FROM reporting.audit_log") == [
        (scripted.position,)
    ]
    with pytest.raises(errors.InsufficientPrivilege):
        as_role(conn, reporter, "SELECT sealed FROM reporting.audit_log")


def test_reads_of_personal_records_are_logged_without_content(
    conn: psycopg.Connection[Any], reporter: str
) -> None:
    create_access_log(conn)
    create_access_log(conn)
    mentee, relationship = uuid.uuid4(), uuid.uuid4()
    coordinator = {"actor_role": "coordinator", "actor_id": "token-7"}
    first = record_access(conn, **coordinator, record_type="mentee", record_id=mentee)
    record_access(
        conn,
        **coordinator,
        record_type="relationship",
        record_id=relationship,
        route="/v1/relationships/{id}",
    )
    record_access(conn, actor_role="mentee", actor_id=str(mentee), record_type="mentee",
                  record_id=mentee)  # fmt: skip
    about_mentee = access_log(conn, record_id=mentee, limit=1)
    assert [e["id"] for e in about_mentee["items"]] == [first]
    rest = access_log(conn, record_id=mentee, cursor=about_mentee["next_cursor"])
    assert [(e["actor_role"], e["record_type"]) for e in rest["items"]] == [("mentee", "mentee")]
    by_coordinator = access_log(conn, actor_id="token-7")["items"]
    assert [e["record_type"] for e in by_coordinator] == ["mentee", "relationship"]
    assert set(by_coordinator[1]) == {
        "id",
        "accessed_at",
        "actor_role",
        "actor_id",
        "action",
        "record_type",
        "record_id",
        "route",
    }
    for statement in ("UPDATE audit.access_log SET actor_id = 'x'", "DELETE FROM audit.access_log"):
        with pytest.raises(errors.RaiseException):
            conn.execute(statement)
    with pytest.raises(errors.InsufficientPrivilege):
        as_role(conn, reporter, "SELECT * FROM audit.access_log")
