"""A projection that cannot apply an event says so, loudly, and recovers once its
code is fixed: the audit trail stalls on one relationship's request while every
other projection carries on."""

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from projections import status
from projections.audit import AuditProjection
from projections.view import Positioned
from services.read_side import CATCH_UP_SECONDS
from tests.e2e.client import Api

PERSONAL = "ada.lovelace@example.nhs.uk"


@pytest.fixture
def poisoned(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Event types the audit projection fails on, as it failed on a date it could
    not store; the message quotes a personal value. Emptying the set is deploying
    the fix."""
    kinds: set[str] = set()
    project = AuditProjection.project

    def failing(self: AuditProjection, curs: Any, events: Sequence[Positioned]) -> None:
        if any(type(event).__qualname__ in kinds for event, _ in events):
            raise OverflowError(f"date value out of range for {PERSONAL}")
        project(self, curs, events)

    monkeypatch.setattr(AuditProjection, "project", failing)
    yield kinds


def gauges(api: Api) -> dict[str, float]:
    text = api.admin.get("/metrics").text
    return {
        key: float(value)
        for key, value in (line.rsplit(" ", 1) for line in text.splitlines())
        if not key.startswith("#")
    }


def eventually(check: Any, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (outcome := check()):
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.05)
    return outcome


def test_a_stalled_audit_trail_is_loud_and_recovers_once_fixed(
    api: Api, poisoned: set[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mentoring.projections")
    scheme = api.scheme()
    mentee = api.mentee(scheme["id"])
    assert api.ok(api.admin.get("/readyz"))["stalled"] == []
    poisoned.add("Relationship.Requested")
    api.request(scheme["id"], mentee["id"])
    eventually(lambda: api.admin.get("/readyz").status_code == 503)

    # Readiness names it; the others carry on with events written after the stall.
    ready = api.admin.get("/readyz")
    assert ready.json() == {
        "ready": False,
        "checks": {"database": True, "projections": False},
        "stalled": ["audit_log"],
    }
    api.mentor(scheme["id"])
    head = api.count_events()
    eventually(
        lambda: gauges(api)['mentoring_projection_lag_events{projection="mentor_load"}'] == 0
    )
    metrics = gauges(api)
    for name in ("relationships", "relationship_history", "mentor_load", "evaluation"):
        assert metrics[f'mentoring_projection_position{{projection="{name}"}}'] == head
        assert metrics[f'mentoring_projection_stalled{{projection="{name}"}}'] == 0
    assert metrics['mentoring_projection_stalled{projection="audit_log"}'] == 1
    assert metrics['mentoring_projection_lag_events{projection="audit_log"}'] > 0

    # The stall names the event it cannot apply: every event before it is audited.
    with api.runtime.pool.connection() as connection:
        stall = status.stalls(connection)["audit_log"]
    assert stall["error_type"] == "OverflowError"
    assert stall["raised_at"].startswith("test_stalled_projection.py:")
    audited = metrics['mentoring_projection_position{projection="audit_log"}']
    assert audited == stall["position"] - 1

    verified = api.ok(api.admin.get("/v1/reports/audit/verify"))
    assert verified == {
        "ok": False,
        "rows": audited,
        "complete": False,
        "lag": head - audited,
        "first_bad_row": None,
    }

    started = time.monotonic()
    report = api.admin.get("/v1/reports/stalled", params={"scheme_id": scheme["id"]})
    assert time.monotonic() - started < CATCH_UP_SECONDS
    assert report.status_code == 503
    assert report.headers["content-type"] == "application/problem+json"
    assert report.headers["retry-after"] == str(int(CATCH_UP_SECONDS))
    assert report.json()["projections"] == ["audit_log"]
    assert report.json()["stalled"] == ["audit_log"]
    listed = api.admin.get("/v1/relationships", params={"scheme_id": scheme["id"]})
    assert listed.status_code == 503

    # Logged once however often it was retried, and without the message's values.
    eventually(lambda: stall_attempts(api) >= 3)
    stalls = [r for r in caplog.records if "stalled at position" in r.getMessage()]
    assert len(stalls) == 1
    assert "audit_log" in stalls[0].getMessage()
    assert str(stall["position"]) in stalls[0].getMessage()
    assert all(PERSONAL not in record.getMessage() for record in caplog.records)

    # The fix is deployed: the projection gets past the event and the stall clears.
    poisoned.clear()
    eventually(lambda: api.admin.get("/readyz").status_code == 200)
    assert gauges(api)['mentoring_projection_stalled{projection="audit_log"}'] == 0
    after = api.ok(api.admin.get("/v1/reports/audit/verify"))
    assert after == {
        "ok": True,
        "rows": head,
        "complete": True,
        "lag": 0,
        "first_bad_row": None,
    }
    assert api.admin.get("/v1/reports/stalled").status_code == 200
    assert any("audit_log recovered" in r.getMessage() for r in caplog.records)


def stall_attempts(api: Api) -> int:
    with api.runtime.pool.connection() as connection:
        return int(status.stalls(connection).get("audit_log", {}).get("attempts", 0))
