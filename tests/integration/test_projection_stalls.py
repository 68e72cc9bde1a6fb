"""The record of a stalled projection: what it keeps (never the error's message),
and that a projector started after the fix clears a stall an earlier run left."""

import threading
import time

import psycopg
import pytest

from projections import status
from services import bootstrap
from tests.support.mentoring import mentoring
from tests.support.settings import settings_for
from tests.support.workload import Workload

pytestmark = pytest.mark.postgres


def test_a_failure_keeps_the_event_position_type_and_place_but_not_the_message() -> None:
    try:
        try:
            raise OverflowError("date value out of range: ada@example.nhs.uk")
        except OverflowError as error:
            raise status.EventNotProjected("audit_log", 42) from error
    except status.EventNotProjected as stalled:
        failure = status.Failure.of(stalled, standing_at=40)
    assert failure.position == 42
    assert failure.error_type == "OverflowError"
    assert failure.raised_at.startswith("test_projection_stalls.py:")
    assert "ada" not in repr(failure)


def test_a_database_failure_stalls_at_the_position_reached() -> None:
    try:
        raise psycopg.OperationalError("connection refused")
    except psycopg.OperationalError as error:
        failure = status.Failure.of(error, standing_at=40)
    assert (failure.position, failure.error_type) == (40, "OperationalError")


def test_a_stall_left_by_an_earlier_run_clears_once_the_projector_gets_on(
    database_url: str,
) -> None:
    settings = settings_for(database_url)
    bootstrap.create_reporting_schema(settings)
    with mentoring(database_url) as app:
        Workload(app, seed=9).write(50, events_per_save=10)
    failure = status.Failure(position=3, error_type="OverflowError", raised_at="audit.py:1 in f")
    assert status.record_stall(database_url, "audit_log", failure) == 1
    assert status.record_stall(database_url, "audit_log", failure) == 2
    with psycopg.connect(database_url, autocommit=True) as connection:
        assert status.stalls(connection)["audit_log"]["attempts"] == 2
    stop = threading.Event()
    projector = threading.Thread(
        target=bootstrap.run_projections, args=(settings, stop), kwargs={"names": ["audit_log"]}
    )
    projector.start()
    try:
        deadline = time.monotonic() + 20
        with psycopg.connect(database_url, autocommit=True) as connection:
            while status.stalls(connection):
                assert time.monotonic() < deadline, "the stall was not cleared"
                time.sleep(0.05)
    finally:
        stop.set()
        projector.join(timeout=30)
