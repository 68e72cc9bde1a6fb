"""The delivery log over HTTP: one row per notice and recipient, for admins and the
scheme's coordinators only, filtered by relationship and status; and mentees
turning their reminders off."""

from pathlib import Path

import pytest

from services.mail.sender import Sender
from services.mail.transport import MailDirectory
from services.staff import StaffStore
from tests.e2e.client import Api
from tests.support.mail import MAIL_FROM, PUBLIC_URL
from workflows.model import Notice
from workflows.outbox import Outbox

ROW_FIELDS = {
    "id",
    "notice_id",
    "relationship_id",
    "kind",
    "recipient_role",
    "status",
    "attempts",
    "last_error",
    "recorded_at",
    "sent_at",
    "next_attempt_at",
}


def send_everything(api: Api, folder: Path) -> MailDirectory:
    runtime = api.runtime
    directory = MailDirectory(folder)
    sender = Sender(
        runtime.mentoring,
        runtime.pool,
        StaffStore(runtime.pool),
        directory,
        mail_from=MAIL_FROM,
        public_url=PUBLIC_URL,
    )
    sender.create_tables()
    while sender.round():
        pass
    return directory


@pytest.fixture(scope="module")
def schemes(api: Api) -> tuple[str, str]:
    return api.scheme()["id"], api.scheme(name="Another scheme")["id"]


def test_a_coordinator_reads_the_delivery_log_of_their_scheme(
    api: Api, schemes: tuple[str, str], tmp_path: Path
) -> None:
    here, _ = schemes
    relationship, _, _ = api.matched_pair(here)
    send_everything(api, tmp_path)
    coordinator = api.as_(api.token("coordinator", scheme_ids=[here]))

    rows = api.ok_list(
        coordinator.get("/v1/notifications", params={"relationship_id": relationship["id"]})
    )
    assert all(row.keys() == ROW_FIELDS for row in rows)
    assert sorted((r["kind"], r["recipient_role"], r["status"]) for r in rows) == [
        ("invitation", "mentor", "skipped"),  # answered before the sender got to it
        ("matched", "mentee", "sent"),
        ("matched", "mentor", "sent"),
    ]
    sent = api.ok_list(
        coordinator.get(
            "/v1/notifications",
            params={"scheme_id": here, "relationship_id": relationship["id"], "status": "sent"},
        )
    )
    assert {r["kind"] for r in sent} == {"matched"}
    assert all(r["attempts"] == 1 and r["sent_at"] for r in sent)


def test_another_schemes_coordinator_learns_nothing_of_its_deliveries(
    api: Api, schemes: tuple[str, str], tmp_path: Path
) -> None:
    here, elsewhere = schemes
    relationship, _, _ = api.matched_pair(here)
    send_everything(api, tmp_path)
    outsider = api.as_(api.token("coordinator", scheme_ids=[elsewhere]))

    assert outsider.get("/v1/notifications", params={"scheme_id": here}).status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert outsider.get("/v1/notifications", params={"scheme_id": unknown}).status_code == 404
    mine = outsider.get("/v1/notifications", params={"relationship_id": relationship["id"]})
    assert api.ok_list(mine) == []


def test_a_status_the_log_does_not_know_is_a_problem(api: Api) -> None:
    response = api.admin.get("/v1/notifications", params={"status": "lost"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_mentee_turns_their_reminders_off_and_no_reminder_reaches_them(
    api: Api, schemes: tuple[str, str], tmp_path: Path
) -> None:
    here, _ = schemes
    relationship, mentor, mentee = api.matched_pair(here)
    as_mentee = api.as_(api.token("mentee", subject_id=mentee["id"]))
    assert mentee["reminders"] is True
    turned = api.ok(as_mentee.patch(f"/v1/mentees/{mentee['id']}", json={"reminders": False}))
    assert turned["reminders"] is False
    assert api.ok(as_mentee.get(f"/v1/mentees/{mentee['id']}"))["reminders"] is False
    as_mentor = api.as_(api.token("mentor", subject_id=mentor["id"]))
    assert (
        as_mentor.patch(f"/v1/mentees/{mentee['id']}", json={"reminders": False}).status_code == 403
    )
    assert as_mentee.patch(f"/v1/mentees/{mentee['id']}", json={"reminders": 0}).status_code == 422

    Outbox(api.runtime.pool).record(
        Notice(relationship["id"], "pair", "meeting_overdue", "meeting_cadence:e2e")
    )
    send_everything(api, tmp_path)
    rows = api.ok_list(
        api.admin.get("/v1/notifications", params={"relationship_id": relationship["id"]})
    )
    overdue = {
        r["recipient_role"]: (r["status"], r["last_error"])
        for r in rows
        if r["kind"] == "meeting_overdue"
    }
    assert overdue == {"mentor": ("sent", None), "mentee": ("skipped", "reminders_off")}


def test_a_mentor_turns_their_reminders_off_through_their_profile(
    api: Api, schemes: tuple[str, str], tmp_path: Path
) -> None:
    here, _ = schemes
    relationship, mentor, _ = api.matched_pair(here)
    as_mentor = api.as_(api.token("mentor", subject_id=mentor["id"]))
    api.ok(as_mentor.patch(f"/v1/mentors/{mentor['id']}", json={"reminders": False}))
    Outbox(api.runtime.pool).record(
        Notice(relationship["id"], "pair", "midpoint_check_in_due", "midpoint:e2e")
    )
    send_everything(api, tmp_path)
    rows = api.ok_list(
        api.admin.get("/v1/notifications", params={"relationship_id": relationship["id"]})
    )
    due = {r["recipient_role"]: r["status"] for r in rows if r["kind"] == "midpoint_check_in_due"}
    assert due == {"mentor": "skipped", "mentee": "sent"}
