"""Reports over HTTP, read straight after the commands that changed them (the `api`
fixture runs the projections beside the API)."""

import csv
import io
from uuid import UUID

from tests.e2e.client import TODAY, Api
from tests.support.mentoring import fact


def metric(report: dict[str, object], name: str) -> dict[str, object]:
    metrics = report["metrics"]
    assert isinstance(metrics, list)
    return next(m for m in metrics if m["metric"] == name and m.get("stage") is None)


def test_a_coordinators_reports_reflect_what_just_happened(api: Api) -> None:
    scheme = api.scheme(cohorts=[{"name": "2026", "eligible_count": 4}])
    coordinator = api.as_(api.token("coordinator", scheme_ids=[scheme["id"]]))
    met, _, _ = api.matched_pair(scheme["id"])
    api.ok(
        api.admin.post(
            f"/v1/relationships/{met['id']}/meetings",
            json={"held_on": TODAY, "mode": "in_person", "duration_minutes": 60},
        ),
        201,
    )
    waiting = api.request(scheme["id"], api.mentee(scheme["id"])["id"])
    waiting_id = UUID(waiting["id"])
    mentoring = api.runtime.mentoring
    mentoring.flag_stalled(waiting_id, "match_within", fact(mentoring, waiting_id, "match_within"))

    stalled = api.ok_list(coordinator.get("/v1/reports/stalled"))
    assert [(s["relationship_id"], s["reason"]) for s in stalled] == [(waiting["id"], "unmatched")]

    evaluation = api.ok(
        coordinator.get("/v1/reports/evaluation", params={"scheme_id": scheme["id"]})
    )
    assert metric(evaluation, "match_rate")["numerator"] == 1
    assert metric(evaluation, "met_mentor_rate")["numerator"] == 1

    as_csv = coordinator.get("/v1/reports/stalled", headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["relationship_id"] for row in rows] == [waiting["id"]]

    counts = api.ok(coordinator.get("/v1/reports/counts", params={"scheme_id": scheme["id"]}))
    assert counts["counts"]["active"] == 1 and counts["counts"]["requested"] == 1


def test_reporters_see_aggregates_only(api: Api) -> None:
    scheme = api.scheme()
    reporter = api.as_(api.token("reporter"))
    api.matched_pair(scheme["id"])
    assert (
        reporter.get("/v1/reports/evaluation", params={"scheme_id": scheme["id"]}).status_code
        == 200
    )
    assert reporter.get("/v1/reports/equity", params={"scheme_id": scheme["id"]}).status_code == 200
    for path in (
        "/v1/reports/stalled",
        "/v1/reports/mentor-load",
        "/v1/reports/audit",
        "/v1/reports/access-log",
    ):
        assert reporter.get(path).status_code == 403, path


def test_reads_of_personal_records_are_in_the_access_log_for_auditors(api: Api) -> None:
    scheme = api.scheme()
    relationship, _, mentee = api.matched_pair(scheme["id"])
    coordinator = api.as_(api.token("coordinator", scheme_ids=[scheme["id"]]))
    api.ok(coordinator.get(f"/v1/mentees/{mentee['id']}"))
    api.ok(coordinator.get(f"/v1/relationships/{relationship['id']}"))
    assert coordinator.get(f"/v1/relationships/{mentee['id']}").status_code == 404

    auditor = api.as_(api.token("auditor"))
    reads = api.ok_list(auditor.get("/v1/reports/access-log", params={"record_id": mentee["id"]}))
    assert [(r["actor_role"], r["record_type"]) for r in reads] == [("coordinator", "mentee")]
    assert "name" not in reads[0] and "email" not in str(reads[0])
    assert coordinator.get("/v1/reports/access-log").status_code == 403


def test_the_audit_trail_verifies(api: Api) -> None:
    scheme = api.scheme()
    relationship, _, _ = api.matched_pair(scheme["id"])
    auditor = api.as_(api.token("auditor"))
    trail = api.ok_list(
        auditor.get("/v1/reports/audit", params={"aggregate_id": relationship["id"]})
    )
    assert [row["event_type"] for row in trail][:3] == [
        "Relationship.Requested",
        "Relationship.MentorInvited",
        "Relationship.InvitationAccepted",
    ]
    verified = api.ok(auditor.get("/v1/reports/audit/verify"))
    assert verified == {
        "ok": True,
        "rows": api.count_events(),
        "complete": True,
        "lag": 0,
        "first_bad_row": None,
    }


def test_metrics_show_how_far_each_projection_has_got(api: Api) -> None:
    api.scheme()
    api.ok(api.admin.get("/v1/reports/audit/verify"))  # waits until projections catch up
    text = api.admin.get("/metrics")
    assert text.headers["content-type"].startswith("text/plain")
    values = dict(
        line.rsplit(" ", 1) for line in text.text.splitlines() if not line.startswith("#")
    )
    head = int(values["mentoring_events_recorded"])
    assert head == api.count_events() > 0
    assert int(values['mentoring_projection_position{projection="audit_log"}']) == head
    assert values['mentoring_projection_lag_events{projection="audit_log"}'] == "0"


def test_a_cursor_the_service_did_not_issue_is_bad_input(api: Api) -> None:
    auditor = api.as_(api.token("auditor"))
    for path in ("/v1/reports/stalled", "/v1/reports/audit", "/v1/reports/access-log"):
        refused = auditor.get(path, params={"cursor": "not-a-cursor"})
        assert refused.status_code == 422, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
