"""Erasure, proved on real PostgreSQL over the real API: a mentee with a full history
(a profile with demographics and free text, a pair that met, agreed, paused for a
reason, resumed, gave feedback and completed; notifications sent and written as
`.eml` files; their record read by staff; a sign-in link and a session; a response
cached by the idempotency store) is erased, and then a `pg_dump` of the whole
database holds none of their seeded values, while the evaluation, equity counts and
the audit trail's verification are as they were. Erasing someone whose relationship
is still open is refused with 409 and changes nothing.

The service runs without MENTORING_CIPHER_KEY here, so nothing but the per-person
keys stands between the dump and the events: the strongest case.
"""

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pgserver  # type: ignore[import-untyped]
import psycopg
import pytest

from domain.equity_record import WITHHELD
from projections import queries
from services.web.identity import Identity
from tests.e2e.client import Api
from tests.e2e.conftest import serving
from tests.e2e.test_notifications import send_everything
from tests.support.mentoring import rows

pytestmark = pytest.mark.postgres

TODAY = datetime.now(UTC).date().isoformat()

# Seeded values found nowhere else, so that a search of the dump means something.
NAME = "Dr Zephyrine Quillfeather-Ashcombe"
EMAIL = "zephyrine.quillfeather7@example.nhs.uk"
OBJECTIVE = "Publish research on the ethics of xenotransplant consent (Q7 cohort)"
# Demographics are categories that others share: five other mentees of the scheme
# hold the same, so that the equity report shows them (under 5 it hides them).
DEMOGRAPHICS = {"ethnicity": "mixed_white_black_caribbean", "sex": "female"}
REASON = "subject request SR-2026-114"
PAUSES = "SELECT count(*) FROM reporting.relationship_pauses WHERE id = %s"


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def api(postgres_server: str, var_dir: Path) -> Iterator[Api]:
    with serving(
        postgres_server,
        MENTORING_VAR_DIR=str(var_dir),
        MENTORING_AUTH_FAILURES_PER_MINUTE="1000",
    ) as api:
        yield api


def pg_dump_for(database_url: str) -> str:
    """A pg_dump of the server's major version: Debian's, or pgserver's own (the
    throwaway server tests/support/databases.py starts when no other is up)."""
    major = int(rows(database_url, "SHOW server_version_num")[0][0]) // 10000
    candidates = [
        Path(f"/usr/lib/postgresql/{major}/bin/pg_dump"),
        Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump",
    ]
    for candidate in candidates:
        if candidate.exists():
            version = subprocess.run(
                [str(candidate), "--version"], check=True, capture_output=True, text=True
            ).stdout
            if f" {major}." in version:
                return str(candidate)
    return "pg_dump"


def dump(database_url: str) -> str:
    """The whole database as plain SQL, as an attacker with a backup would see it."""
    completed = subprocess.run(
        [pg_dump_for(database_url), "--no-owner", "--no-privileges", "--dbname", database_url],
        check=False,
        capture_output=True,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    return completed.stdout.decode("utf-8", errors="replace")


def found_in(everything: str, value: str) -> bool:
    """Whether the dump holds the value as text, or in a bytea column (which pg_dump
    writes as hex), in any case."""
    lowered = everything.lower()
    return value.lower() in lowered or value.encode().hex() in lowered


def wait_for_projections(api: Api) -> None:
    """Until every projection has applied every event recorded so far (their
    tracking tables, as the API's reads wait for them)."""
    with psycopg.connect(api.runtime.database_url, autocommit=True) as connection:
        head = queries.head_position(connection)
        if not queries.wait_for_position(connection, head, timeout=60):
            positions = queries.projection_positions(connection)
            behind = sorted(name for name, at in positions.items() if at < head)
            raise AssertionError(f"projections behind {head}: {behind}")


def reports(api: Api, scheme_id: str) -> dict[str, Any]:
    params = {"scheme_id": scheme_id}
    return {
        "evaluation": api.ok(api.admin.get("/v1/reports/evaluation", params=params)),
        "equity": api.ok_list(api.admin.get("/v1/reports/equity", params=params)),
        "counts": api.ok(api.admin.get("/v1/reports/counts", params=params))["counts"],
    }


def full_history(api: Api, scheme_id: str, var_dir: Path) -> tuple[dict[str, Any], str]:
    """The mentee (registered through the idempotency store) and their relationship,
    from request to completion."""
    for n in range(5):
        api.mentee(
            scheme_id,
            name=f"Dr Other {n}",
            email=f"other{n}@example.nhs.uk",
            demographics=DEMOGRAPHICS,
        )
    registered = api.admin.post(
        "/v1/mentees",
        json={
            "scheme_id": scheme_id,
            "cohort": "2026",
            "name": NAME,
            "email": EMAIL,
            "grade": "CT2",
            "specialty": "cardiology",
            "specialty_decided": True,
            "institution": "Royal Infirmary",
            "objectives": [OBJECTIVE],
            "demographics": DEMOGRAPHICS,
        },
        headers={"Idempotency-Key": "register-7"},
    )
    mentee = api.ok(registered, 201)
    mentor = api.mentor(scheme_id)
    relationship = api.request(scheme_id, mentee["id"])
    path = f"/v1/relationships/{relationship['id']}"
    api.ok(api.admin.post(f"{path}/invite", json={"mentor_id": mentor["id"]}))
    api.ok(api.admin.post(f"{path}/respond", json={"accept": True}))
    meeting = {"held_on": TODAY, "mode": "video", "duration_minutes": 45}
    api.ok(api.admin.post(f"{path}/meetings", json=meeting), 201)
    agreement = {
        "meeting_frequency": "monthly",
        "ground_rules_agreed": True,
        "confidentiality_agreed": True,
    }
    api.ok(api.admin.post(f"{path}/agreement", json=agreement))
    api.ok(api.admin.post(f"{path}/pause", json={"reason_category": "sickness"}))
    feedback = {"stage": "midpoint", "respondent": "mentee", "answers": {"satisfied": 4}}
    api.ok(api.admin.post(f"{path}/feedback", json=feedback), 201)
    # Read by staff (the access log), signed in (a link and a session), and mailed.
    coordinator = api.as_(api.token("coordinator", scheme_ids=[scheme_id]))
    api.ok(coordinator.get(f"/v1/mentees/{mentee['id']}"))
    runtime = api.runtime
    runtime.sign_in_links.issue(EMAIL, "/")
    runtime.sessions.start(Identity("mentee", UUID(mentee["id"])))
    send_everything(api, var_dir / "mail")
    return mentee, relationship["id"]


def test_an_open_relationship_is_refused_then_the_ended_person_is_erased_everywhere(
    api: Api, var_dir: Path
) -> None:
    scheme = api.scheme(cohorts=[{"name": "2026", "eligible_count": 10}])
    mentee, relationship_id = full_history(api, scheme["id"], var_dir)
    mentee_id = mentee["id"]
    database_url = api.runtime.database_url

    # Still open: refused, and nothing recorded.
    events = api.count_events()
    refused = api.admin.post(f"/v1/people/{mentee_id}/erase", json={"reason": REASON})
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "open relationship" in refused.json()["detail"]
    assert api.count_events() == events
    coordinator = api.as_(api.token("coordinator", scheme_ids=[scheme["id"]]))
    assert (
        coordinator.post(f"/v1/people/{mentee_id}/erase", json={"reason": REASON}).status_code
        == 403
    )

    end = {"kind": "completed"}
    api.ok(api.admin.post(f"/v1/relationships/{relationship_id}/end", json=end))
    wait_for_projections(api)
    before = reports(api, scheme["id"])
    shown_groups = {
        (row["field"], row["group"], row["numerator"])
        for row in before["equity"]
        if row["metric"] == "mentees" and not row["suppressed"]
    }
    assert ("ethnicity", DEMOGRAPHICS["ethnicity"], 6) in shown_groups
    verified_before = api.ok(api.admin.get("/v1/reports/audit/verify"))
    assert verified_before["ok"]
    assert rows(database_url, PAUSES, relationship_id) == [(1,)]
    everything = dump(database_url)
    mail_files = list((var_dir / "mail").glob("*.eml"))
    assert any(EMAIL.encode() in path.read_bytes() for path in mail_files)
    # Before the erasure the values are readable: through the API, and in the
    # tables beside the events, which the dump shows in the clear.
    assert api.ok(api.admin.get(f"/v1/mentees/{mentee_id}"))["name"] == NAME
    rationale = api.ok(api.admin.get(f"/v1/relationships/{relationship_id}"))["rationale"]
    assert OBJECTIVE in str(rationale)  # the match quotes what the mentee wrote
    assert found_in(everything, EMAIL) and found_in(everything, NAME)

    erased = api.ok(api.admin.post(f"/v1/people/{mentee_id}/erase", json={"reason": REASON}))
    assert erased["id"] == mentee_id and erased["kind"] == "mentee" and erased["erased"]
    wait_for_projections(api)

    # Nowhere in the database.
    everything = dump(database_url)
    for value in (NAME, EMAIL, OBJECTIVE, "Quillfeather", "Zephyrine", "xenotransplant"):
        assert not found_in(everything, value), value
    # The demographics are no longer beside the person's id anywhere: an anonymous
    # record holds them (tests/integration/test_erasure_rebuild.py).
    linked = "SELECT count(*) FROM reporting.equity_mentees WHERE mentee_id = %s"
    assert rows(database_url, linked, mentee_id) == [(0,)]
    assert rows(
        database_url,
        "SELECT count(*) FROM reporting.relationship_pauses WHERE id = %s",
        relationship_id,
    ) == [(0,)]
    # Nor in the mail files kept by the embedded default.
    assert not [p for p in (var_dir / "mail").glob("*.eml") if EMAIL.encode() in p.read_bytes()]

    # The API shows them as erased; the counts and the audit trail are unchanged.
    shown = api.ok(api.admin.get(f"/v1/mentees/{mentee_id}"))
    assert (shown["name"], shown["email"], shown["objectives"]) == ("erased", "erased", [])
    assert not shown.get("demographics")
    history = api.ok_list(api.admin.get(f"/v1/relationships/{relationship_id}/events"))
    assert api.ok(api.admin.get(f"/v1/relationships/{relationship_id}"))["rationale"] is None
    paused = [event for event in history if event["type"] == "Paused"]
    assert paused and paused[0]["details"]["reason_category"] == "erased"
    assert reports(api, scheme["id"]) == before
    verified = api.ok(api.admin.get("/v1/reports/audit/verify"))
    # Three rows: the erasure, and the anonymous equity record and the pair's
    # `PartyErased` written with it.
    assert verified["ok"] and verified["rows"] == verified_before["rows"] + 3
    auditor = api.as_(api.token("auditor"))
    trail = api.ok_list(auditor.get("/v1/reports/audit", params={"aggregate_id": mentee_id}))
    record = trail[-1]
    assert record["event_type"] == "Mentee.Erased"
    assert record["actor_role"] == "admin"
    assert record["details"]["reason"] == REASON
    pair_trail = auditor.get("/v1/reports/audit", params={"aggregate_id": relationship_id})
    pair_record = api.ok_list(pair_trail)[-1]
    assert pair_record["event_type"] == "Relationship.PartyErased"
    assert pair_record["details"] == {"party": "mentee"}
    # Sessions ended, and signing in by the old email finds no one.
    assert api.runtime.sessions.live(UUID(mentee_id)) == 0
    assert api.runtime.people_by_email.find(EMAIL) is None

    # Again: nothing changes.
    events = api.count_events()
    again = api.ok(api.admin.post(f"/v1/people/{mentee_id}/erase", json={"reason": REASON}))
    assert again["erased"] and api.count_events() == events


def test_erasing_someone_unknown_is_not_found_and_bad_input_is_refused(api: Api) -> None:
    unknown = api.admin.post(f"/v1/people/{UUID(int=7)}/erase", json={"reason": REASON})
    assert unknown.status_code == 404
    scheme = api.scheme()
    mentor = api.mentor(scheme["id"])
    assert api.admin.post(f"/v1/people/{mentor['id']}/erase", json={}).status_code == 422
    assert (
        api.admin.post(f"/v1/people/{mentor['id']}/erase", json={"reason": ""}).status_code == 422
    )
    erased = api.ok(api.admin.post(f"/v1/people/{mentor['id']}/erase", json={"reason": REASON}))
    assert erased["kind"] == "mentor"
    directory = api.ok_list(api.admin.get("/v1/mentors", params={"scheme_id": scheme["id"]}))
    assert [(m["name"], m.get("email")) for m in directory] == [("erased", "erased")]


def test_the_retention_setting_goes_through_the_scheme_settings_api(api: Api) -> None:
    scheme = api.scheme(retention_after_end="P6Y")
    assert scheme["retention_after_end"] == "P6Y"
    path = f"/v1/schemes/{scheme['id']}"
    changed = api.ok(api.admin.patch(path, json={"retention_after_end": "P18M"}))
    assert changed["retention_after_end"] == "P18M"
    refused = api.admin.patch(path, json={"retention_after_end": "six years"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert api.ok(api.admin.get(path))["retention_after_end"] == "P18M"
    assert api.scheme()["retention_after_end"] is None


def test_a_value_only_the_erased_mentee_held_is_withheld_and_the_counts_stay(
    api: Api,
) -> None:
    """Their one-of-a-kind value would single them out beside the others' groups:
    it is counted as `withheld`, found nowhere in the dump, and every count stays."""
    scheme = api.scheme(cohorts=[{"name": "2026", "eligible_count": 10}])
    for n in range(5):
        api.mentee(scheme["id"], email=f"shared{n}@example.nhs.uk", demographics=DEMOGRAPHICS)
    unique = "zoroastrian_tilbrook_q9"
    mentee = api.mentee(
        scheme["id"],
        name="Dr Una Tilbrook",
        email="una.tilbrook@example.nhs.uk",
        demographics={**DEMOGRAPHICS, "religion": unique},
    )
    wait_for_projections(api)
    before = reports(api, scheme["id"])
    assert found_in(dump(api.runtime.database_url), unique)

    api.ok(api.admin.post(f"/v1/people/{mentee['id']}/erase", json={"reason": REASON}))
    wait_for_projections(api)

    assert not found_in(dump(api.runtime.database_url), unique)
    after = reports(api, scheme["id"])
    assert (after["evaluation"], after["counts"]) == (before["evaluation"], before["counts"])

    def counted(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return sorted(
            (row["field"], row["metric"], row["suppressed"], row["numerator"], row["denominator"])
            for row in rows
        )

    assert counted(after["equity"]) == counted(before["equity"])
    religion = {
        (row["group"], row["suppressed"]) for row in after["equity"] if row["field"] == "religion"
    }
    assert (WITHHELD, True) in religion and all(group != unique for group, _ in religion)
    # The values the others share are kept as they were.
    assert [row for row in after["equity"] if row["field"] != "religion"] == [
        row for row in before["equity"] if row["field"] != "religion"
    ]
