"""The application on real PostgreSQL: what is saved loads back, two people acting
at once cannot both win, and personal data is encrypted at rest."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.postgres import PostgresApplicationRecorder

from domain.actors import Actor
from domain.relationship import Relationship
from services.application import Mentoring
from services.errors import Conflict
from services.persistence import create_cipher_key, postgres_env
from services.recorder import RenderedStatementsRecorder
from tests.unit.scenario import STAFF, TODAY

NAME, EMAIL = "Dr Winifred Quaresma", "winifred.quaresma@example.nhs.uk"


def seed(app: Mentoring) -> dict[str, Any]:
    scheme = app.create_scheme({"name": "Integration", "matching_model": "assigned"}, STAFF)
    mentor = app.register_mentor(
        {
            "scheme_id": scheme.aggregate.id,
            "name": NAME,
            "email": EMAIL,
            "grade": "consultant",
            "specialty": "renal",
            "institution": "A",
            "interests": ["education"],
            "capacity": 2,
            "trained_on": TODAY,
        },
        STAFF,
    ).aggregate
    mentee = app.register_mentee(
        {
            "scheme_id": scheme.aggregate.id,
            "cohort": "2026",
            "name": "Dr Ifeoma Baptiste",
            "email": "ifeoma.baptiste@example.nhs.uk",
            "grade": "ST1",
            "specialty": "renal",
            "specialty_decided": True,
            "institution": "B",
            "interests": [],
            "objectives": [],
            "line_manager_ids": [],
            "demographics": {"sex": "female"},
        },
        STAFF,
    ).aggregate
    relationship = app.request_mentor(scheme.aggregate.id, mentee.id, [], STAFF).aggregate
    app.invite_mentor(relationship.id, mentor.id, STAFF)
    app.respond_to_invitation(relationship.id, True, STAFF)
    return {"mentor": mentor.id, "mentee": mentee.id, "relationship": relationship.id}


@pytest.fixture
def app(database_url: str) -> Iterator[Mentoring]:
    application = Mentoring(env=postgres_env(database_url))
    yield application
    application.close()


def test_a_relationship_saved_in_postgres_loads_back_the_same(
    app: Mentoring, database_url: str
) -> None:
    ids = seed(app)
    app.log_meeting(ids["relationship"], TODAY, "phone", 45, STAFF)
    fresh = Mentoring(env=postgres_env(database_url))
    try:
        loaded = fresh.get_relationship(ids["relationship"])
        assert vars(loaded) == vars(app.get_relationship(ids["relationship"]))
        assert loaded.state == "active" and loaded.meetings_count == 1
        assert fresh.get_mentor(ids["mentor"]).relationship_ids == [ids["relationship"]]
        assert [p for p, _ in fresh.all_of(Relationship)] != []
    finally:
        fresh.close()


def test_two_conflicting_commands_at_once_one_wins_and_versions_stay_contiguous(
    app: Mentoring, database_url: str
) -> None:
    """Two people load the same version and both try to write the next one."""
    ids = seed(app)
    relationship_id = ids["relationship"]
    readers = [Mentoring(env=postgres_env(database_url)) for _ in range(2)]
    try:
        loaded = [reader.get_relationship(relationship_id) for reader in readers]
        loaded[0].end("no_blame", None, Actor("mentee", str(ids["mentee"])))
        loaded[1].log_meeting(TODAY, "video", 30, "P365D", TODAY, Actor("mentor", "m"))
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def save(reader: Mentoring, aggregate: Relationship) -> None:
            barrier.wait()
            try:
                reader._save(aggregate)
                outcomes.append("saved")
            except Conflict:
                outcomes.append("conflict")

        threads = [
            threading.Thread(target=save, args=pair) for pair in zip(readers, loaded, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for reader in readers:
            reader.close()
    assert sorted(outcomes) == ["conflict", "saved"]
    versions = [e.originator_version for e in app.relationship_events(relationship_id)]
    assert versions == list(range(1, len(versions) + 1))


def _dump_events(database_url: str) -> str:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT topic, state FROM mentoring_events").fetchall()
    return "\n".join(f"{topic} {bytes(state)!r}" for topic, state in rows)


def test_with_a_cipher_key_no_name_or_email_is_stored_in_clear(database_url: str) -> None:
    encrypted = Mentoring(env=postgres_env(database_url, create_cipher_key()))
    try:
        ids = seed(encrypted)
        assert encrypted.get_mentor(ids["mentor"]).name == NAME
    finally:
        encrypted.close()
    dump = _dump_events(database_url)
    assert "Registered" in dump
    for secret in (NAME, EMAIL, "Ifeoma", "female"):
        assert secret not in dump


def test_without_a_cipher_key_the_dump_shows_all_but_the_personal_fields(
    app: Mentoring, database_url: str
) -> None:
    """The check above can fail: plain storage is readable, all but the personal
    fields, which are under the person's own key (services.keys) even so."""
    seed(app)
    dump = _dump_events(database_url)
    assert "renal" in dump
    assert NAME not in dump and EMAIL not in dump


@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("limit", [None, 2])
@pytest.mark.parametrize(("gt", "lte"), [(None, None), (1, None), (None, 3), (1, 3)])
def test_the_recorder_reads_events_exactly_as_eventsourcing_composes_the_query(
    app: Mentoring, gt: int | None, lte: int | None, desc: bool, limit: int | None
) -> None:
    """services.recorder renders its select once; it answers what eventsourcing's own
    select_events answers, for every combination of its arguments."""
    relationship = seed(app)["relationship"]
    app.log_meeting(relationship, TODAY, "phone", 45, STAFF)
    assert isinstance(app.recorder, RenderedStatementsRecorder)
    arguments = {"gt": gt, "lte": lte, "desc": desc, "limit": limit}
    ours = app.recorder.select_events(relationship, **arguments)
    theirs = PostgresApplicationRecorder.select_events(app.recorder, relationship, **arguments)
    assert [event.originator_version for event in ours] != []
    assert ours == theirs


def test_events_are_recorded_in_one_statement_that_waits_for_the_table_lock(
    app: Mentoring, database_url: str
) -> None:
    """services.recorder's insert function takes eventsourcing's EXCLUSIVE lock on the
    events table, so notification ids still commit in the order they are issued: a
    command waits while another transaction holds the lock, then gets the next ids."""
    relationship = seed(app)["relationship"]
    before = app.recorder.max_notification_id() or 0
    saved: list[int] = []
    with psycopg.connect(database_url) as holder:
        holder.execute("LOCK TABLE mentoring_events IN EXCLUSIVE MODE")
        writer = threading.Thread(
            target=lambda: saved.append(
                app.log_meeting(relationship, TODAY, "phone", 45, STAFF).position
            )
        )
        writer.start()
        with psycopg.connect(database_url, autocommit=True) as observer:
            deadline = time.monotonic() + 10
            while not (waiting := _waiting_for_locks(observer)) and time.monotonic() < deadline:
                time.sleep(0.05)
        assert writer.is_alive() and saved == []
        holder.rollback()
    writer.join(timeout=10)
    assert [query for (query,) in waiting] == [
        'SELECT * FROM "public"."mentoring_events_insert"($1)'
    ]
    assert saved == [before + 1]


def _waiting_for_locks(connection: psycopg.Connection[Any]) -> list[tuple[str]]:
    return connection.execute(
        "SELECT query FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchall()


def test_on_a_store_made_before_the_insert_function_events_are_recorded_as_eventsourcing_does(
    app: Mentoring, database_url: str
) -> None:
    ids = seed(app)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP FUNCTION mentoring_events_insert")
    app.log_meeting(ids["relationship"], TODAY, "phone", 45, STAFF)
    assert app.get_relationship(ids["relationship"]).meetings_count == 1


def test_after_a_save_the_cache_holds_a_copy_at_the_saved_version(app: Mentoring) -> None:
    """The next command reads no events back (eventsourcing's fast-forward alone would
    leave the cache at the version it last read), and the aggregate a command returns
    is not the one cached, so a later fast-forward cannot change it under its reader."""
    relationship = seed(app)["relationship"]
    saved = app.log_meeting(relationship, TODAY, "phone", 45, STAFF).aggregate
    assert app.repository.cache is not None
    cached = app.repository.cache.get(relationship)
    assert cached is not saved
    assert cached.version == saved.version and vars(cached) == vars(saved)
    app.recorder.select_events = lambda *args, **kwargs: []  # type: ignore[method-assign]
    assert app.get_relationship(relationship).version == saved.version


def test_processes_starting_at_once_on_a_new_database_all_make_its_tables(
    database_url: str,
) -> None:
    """`mentoring up` starts the API, the worker and the relay together, and the relay
    makes an application on each of its threads: all of them making the event store's
    tables, type and insert function at the same instant must all succeed."""
    starters = 6
    ready = threading.Barrier(starters)
    made: list[Mentoring] = []
    failed: list[Exception] = []

    def start() -> None:
        ready.wait()
        try:
            made.append(Mentoring(env=postgres_env(database_url)))
        except Exception as error:  # kept, to be reported below
            failed.append(error)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert failed == []
        assert len(made) == starters
        ids = seed(made[0])
        assert made[-1].get_relationship(ids["relationship"]).version > 0
    finally:
        for app in made:
            app.close()
