"""An event store written by the previous release (475f6b4, tests/fixtures/
previous-release.sql, made by tests/fixtures/record_previous_release.py) works with
this one: every aggregate loads, the planned ends its first meetings and extensions
fixed are read from the events, the relay signals them, every projection rebuilds
from it, and new events follow the old ones."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row

from domain.actors import Actor
from domain.people import Mentee, Mentor
from domain.relationship import Relationship
from domain.scheme import Scheme
from projections import queries
from services.application import Mentoring
from tests.support.clock import START
from tests.support.databases import scratch_database
from tests.support.mentoring import mentoring, project
from workflows.relay import lifecycle_event

pytestmark = pytest.mark.postgres

FIXTURE = Path(__file__).parents[1] / "fixtures" / "previous-release.sql"

# The planned end of each pair, in days after the script's day 0 (START): its first
# meeting's day + the scheme's P365D, or the day it was extended to.
PLANNED_END_DAY = {
    ("Asha", False): 375,
    ("Ben", False): 385,
    ("Cara", False): None,
    ("Ema", False): 390,
    ("Ben", True): 436,  # Ben's rematch
    ("Dev", False): 500,  # first met on day 85, extended on day 90
}


def restore(database_url: str) -> None:
    """Run the plain-SQL dump, leaving out psql's own commands (`\\restrict`)."""
    script = "\n".join(
        line for line in FIXTURE.read_text().splitlines() if not line.startswith("\\")
    )
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(script.encode())


@pytest.fixture(scope="module")
def database(postgres_server: str) -> Iterator[str]:
    with scratch_database(postgres_server) as url:
        restore(url)
        yield url


@pytest.fixture(scope="module")
def app(database: str) -> Iterator[Mentoring]:
    with mentoring(database) as application:
        yield application


def pairs_by_mentee(app: Mentoring) -> dict[tuple[str, bool], Relationship]:
    """Every relationship, by its mentee's name and whether it is a rematch."""
    return {
        (app.get_mentee(r.mentee_id).name, r.rematch_of is not None): r
        for _, r in app.all_of(Relationship)
    }


def test_every_aggregate_the_previous_release_saved_loads(database: str, app: Mentoring) -> None:
    with psycopg.connect(database) as connection:
        ids = [
            UUID(str(row[0]))
            for row in connection.execute("SELECT DISTINCT originator_id FROM mentoring_events")
        ]
    loaded = [app.repository.get(aggregate_id) for aggregate_id in ids]
    kinds = [type(aggregate) for aggregate in loaded]
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {
        Scheme: 1,
        Mentor: 3,
        Mentee: 5,
        Relationship: 6,
    }
    assert sum(aggregate.version for aggregate in loaded) == 79


def test_the_planned_ends_fixed_then_are_read_from_the_events(app: Mentoring) -> None:
    pairs = pairs_by_mentee(app)
    assert set(pairs) == set(PLANNED_END_DAY)
    for key, day in PLANNED_END_DAY.items():
        expected = None if day is None else START + timedelta(days=day)
        assert pairs[key].planned_end == expected, key


def test_old_meetings_and_extensions_load_in_the_current_shape(app: Mentoring) -> None:
    dev = pairs_by_mentee(app)["Dev", False]
    events = app.relationship_events(dev.id)
    meetings = [e for e in events if isinstance(e, Relationship.MeetingLogged)]
    extensions = [e for e in events if isinstance(e, Relationship.Extended)]
    assert [m.planned_end for m in meetings] == [START + timedelta(days=85 + 365), None]
    assert [e.planned_end for e in extensions] == [START + timedelta(days=500)]
    for event in (*meetings, *extensions):
        assert not {"planned_duration", "until"} & set(vars(event))


def test_the_relay_signals_the_planned_ends_the_events_recorded(app: Mentoring) -> None:
    dev = pairs_by_mentee(app)["Dev", False]
    signals = [lifecycle_event(e) for e in app.relationship_events(dev.id)]  # type: ignore[arg-type]
    assert [(s.name, s.planned_end) for s in signals if s.planned_end is not None] == [
        ("MeetingLogged", START + timedelta(days=450)),
        ("Extended", START + timedelta(days=500)),
    ]


def reporting(database: str, query: str) -> list[dict[str, Any]]:
    with psycopg.connect(database, row_factory=dict_row) as connection:
        return connection.execute(query).fetchall()  # type: ignore[arg-type]


def test_every_projection_rebuilds_from_the_old_events(database: str, app: Mentoring) -> None:
    project(database)
    pairs = pairs_by_mentee(app)
    rows = {row["id"]: row for row in reporting(database, "SELECT * FROM reporting.relationships")}
    assert len(rows) == len(pairs)
    for key, pair in pairs.items():
        row = rows[pair.id]
        assert (row["state"], row["planned_end"]) == (pair.state, pair.planned_end), key
        assert row["meetings_count"] == pair.meetings_count, key
    audit = reporting(database, "SELECT count(*) AS rows FROM reporting.audit_log")
    assert audit == [{"rows": 79}]
    with psycopg.connect(database, row_factory=dict_row) as connection:
        assert queries.verify_audit(connection) == {
            "ok": True,
            "rows": 79,
            "complete": True,
            "lag": 0,
            "first_bad_row": None,
        }
    history = reporting(
        database,
        "SELECT count(*) AS open FROM reporting.relationship_history WHERE valid_to IS NULL",
    )
    assert history == [{"open": 6}]
    uptake = reporting(
        database,
        "SELECT numerator, denominator FROM reporting.evaluation "
        "WHERE metric = 'uptake_rate' AND cohort IS NULL",
    )
    assert uptake == [{"numerator": 5, "denominator": 12}]


def test_new_events_follow_the_old_ones(database: str, app: Mentoring) -> None:
    dev = pairs_by_mentee(app)["Dev", False]
    today = datetime.now(UTC).date()
    saved = app.log_meeting(dev.id, today, "video", 30, Actor("mentee", str(dev.mentee_id)))
    project(database)
    row = reporting(
        database,
        f"SELECT meetings_count, planned_end FROM reporting.relationships WHERE id = '{dev.id}'",
    )
    assert row == [{"meetings_count": 3, "planned_end": START + timedelta(days=500)}]
    with psycopg.connect(database, row_factory=dict_row) as connection:
        assert queries.verify_audit(connection)["rows"] == saved.position
