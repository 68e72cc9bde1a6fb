"""The report and governance pages over real HTTP, signed in as each role would be,
after the scripted scheme (tests/support/scripted_scheme.py): the same access as the
API's reports, the page's CSV the API's CSV byte for byte, the equity report's
suppression kept, the audit chain's verification and the sealed fields for those
the API shows them to only."""

from collections.abc import Iterator
from itertools import count
from typing import Any

import httpx
import pytest

from projections.equity import SMALLEST_SHOWN
from services.web.report_view import NOT_SHOWN
from tests.support.clock import Clock
from tests.support.mentoring import mentoring
from tests.support.scripted_scheme import ScriptedScheme, play
from tests.support.web import Site, serving_pages, signed_in_visitor

pytestmark = pytest.mark.postgres

_emails = count()


@pytest.fixture(scope="module")
def site(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serving_pages(postgres_server, tmp_path_factory.mktemp("var")) as site:
        yield site


@pytest.fixture(scope="module")
def script(site: Site) -> ScriptedScheme:
    with mentoring(site.api.runtime.database_url) as app:
        return play(app, Clock())


def staff(site: Site, role: str, scheme_ids: list[str] | None = None) -> httpx.Client:
    """A new staff account in `role`, added through the API, signed in to the pages."""
    email = f"{role}{next(_emails)}@example.nhs.uk"
    body: dict[str, Any] = {"name": f"Dr {role.title()}", "email": email, "role": role}
    if scheme_ids:
        body["scheme_ids"] = scheme_ids
    site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    return signed_in_visitor(site, email)


@pytest.fixture(scope="module")
def coordinator(site: Site, script: ScriptedScheme) -> httpx.Client:
    return staff(site, "coordinator", [str(script.scheme_id)])


@pytest.fixture(scope="module")
def auditor(site: Site, script: ScriptedScheme) -> httpx.Client:
    return staff(site, "auditor")


def test_the_coordinator_sees_the_latest_cohort_beside_the_one_before_as_charts_and_tables(
    coordinator: httpx.Client, script: ScriptedScheme
) -> None:
    page = coordinator.get(f"/schemes/{script.scheme_id}/reports")
    assert page.status_code == 200, page.text
    assert "Reports: 2025" in page.text
    assert page.text.count('role="img"') >= 4  # the NHS logo, then each chart
    assert "Rates against targets" in page.text
    assert "Met their mentor, of those signed up (2025): 100% (1 of 1)" in page.text
    assert "Met their mentor, of those signed up (2024): 50% (2 of 4)" in page.text
    assert (
        "Met their mentor, of those signed up (2025): 100% (1 of 1); target at least 90%"
        in page.text
    )
    assert "Median days from asking to a match (2025): 7.0 days (of 1)" in page.text
    assert "Overall, how satisfied are you with the scheme?" in page.text
    assert "Nine in ten of those signed up meet their mentor" in page.text
    assert "<td" in page.text and "at least 90%" in page.text
    assert "style=" not in page.text
    whole = coordinator.get(f"/schemes/{script.scheme_id}/reports", params={"cohort": ""})
    assert "Reports: all cohorts" in whole.text


@pytest.mark.parametrize(
    ("download", "api_path", "params"),
    [
        ("evaluation.csv", "/v1/reports/evaluation", {"cohort": "2024"}),
        ("evaluation.csv", "/v1/reports/evaluation", {}),
        ("equity.csv", "/v1/reports/equity", {}),
    ],
)
def test_a_downloaded_report_is_the_apis_csv_of_the_same_report(
    site: Site,
    coordinator: httpx.Client,
    script: ScriptedScheme,
    download: str,
    api_path: str,
    params: dict[str, str],
) -> None:
    scheme = str(script.scheme_id)
    downloaded = coordinator.get(f"/schemes/{scheme}/reports/{download}", params=params)
    token = site.api.as_(site.api.token("coordinator", scheme_ids=[scheme]))
    served = token.get(
        api_path, params={"scheme_id": scheme, **params}, headers={"Accept": "text/csv"}
    )
    assert downloaded.status_code == served.status_code == 200, downloaded.text
    assert downloaded.headers["content-type"] == served.headers["content-type"]
    assert downloaded.text == served.text
    assert downloaded.text.count("\n") > 1


def test_small_groups_of_the_equity_report_are_not_shown(
    site: Site, coordinator: httpx.Client, script: ScriptedScheme
) -> None:
    rows = site.api.ok_list(
        site.api.admin.get("/v1/reports/equity", params={"scheme_id": str(script.scheme_id)})
    )
    suppressed = [row for row in rows if row["suppressed"]]
    assert suppressed, "the scripted scheme's groups are all under the threshold"
    page = coordinator.get(f"/schemes/{script.scheme_id}/reports").text
    assert page.count(NOT_SHOWN) == len(suppressed)
    assert f"fewer than {SMALLEST_SHOWN}" in page


@pytest.mark.parametrize(
    "path",
    [
        "reports",
        "reports/evaluation.csv",
        "reports/equity.csv",
        "governance",
    ],
)
def test_a_coordinator_of_another_scheme_is_told_there_is_no_such_page(
    site: Site, script: ScriptedScheme, path: str
) -> None:
    other = staff(site, "coordinator", [site.api.scheme()["id"]])
    answer = other.get(f"/schemes/{script.scheme_id}/{path}")
    assert answer.status_code == 404
    assert "There is no such page" in answer.text
    assert "2024" not in answer.text


def test_a_mentee_may_not_open_the_reports(site: Site, script: ScriptedScheme) -> None:
    email = "report.reader.mentee@example.nhs.uk"
    site.api.mentee(str(script.scheme_id), cohort="2024", email=email)
    mentee = signed_in_visitor(site, email)
    for path in ("reports", "reports/equity.csv", "governance", "audit", "access-log"):
        answer = mentee.get(f"/schemes/{script.scheme_id}/{path}")
        assert answer.status_code == 403, path
        assert "You do not have access" in answer.text


def test_a_reporter_reads_the_reports_and_the_roles_but_not_the_audit_trail(
    site: Site, script: ScriptedScheme
) -> None:
    reporter = staff(site, "reporter")
    assert reporter.get(f"/schemes/{script.scheme_id}/reports").status_code == 200
    governance = reporter.get(f"/schemes/{script.scheme_id}/governance")
    assert governance.status_code == 200
    assert "Coordinator One" in governance.text
    assert 'id="verification"' not in governance.text
    assert reporter.get(f"/schemes/{script.scheme_id}/audit").status_code == 403


def test_the_governance_roles_and_no_audit_trail_for_a_coordinator(
    coordinator: httpx.Client, script: ScriptedScheme
) -> None:
    page = coordinator.get(f"/schemes/{script.scheme_id}/governance")
    assert page.status_code == 200
    assert "Coordinator One" in page.text
    assert 'id="verification"' not in page.text
    assert "/audit" not in page.text
    assert coordinator.get(f"/schemes/{script.scheme_id}/audit").status_code == 403
    pair = script.relationships["ben"]
    refused = coordinator.get(f"/schemes/{script.scheme_id}/audit", params={"pair": str(pair)})
    assert refused.status_code == 403
    assert "workload" not in refused.text
    assert coordinator.get(f"/schemes/{script.scheme_id}/access-log").status_code == 403


def test_an_auditor_sees_the_chain_verified_and_the_sealed_reason_of_a_no_blame_ending(
    site: Site, auditor: httpx.Client, script: ScriptedScheme
) -> None:
    governance = auditor.get(f"/schemes/{script.scheme_id}/governance")
    assert governance.status_code == 200
    verified = site.api.ok(site.api.as_(site.api.token("auditor")).get("/v1/reports/audit/verify"))
    assert verified["ok"]
    assert "Intact" in governance.text
    assert f"all {verified['rows']} entries" in governance.text
    pair = script.relationships["ben"]
    trail = auditor.get(f"/schemes/{script.scheme_id}/audit", params={"pair": str(pair)})
    assert trail.status_code == 200
    assert "EndedWithoutBlame" in trail.text or "Ended" in trail.text
    assert "workload" in trail.text
    assert f"/access-log?record={pair}" in trail.text


def test_an_admin_reads_the_audit_trail_without_its_sealed_fields(
    site: Site, script: ScriptedScheme
) -> None:
    admin = staff(site, "admin")
    pair = script.relationships["ben"]
    trail = admin.get(f"/schemes/{script.scheme_id}/audit", params={"pair": str(pair)})
    assert trail.status_code == 200
    assert "Ended" in trail.text
    assert "workload" not in trail.text
    assert admin.get(f"/schemes/{script.scheme_id}/access-log").status_code == 403


def test_the_audit_trail_asks_again_for_a_pair_id_that_is_not_one(
    auditor: httpx.Client, script: ScriptedScheme
) -> None:
    answer = auditor.get(f"/schemes/{script.scheme_id}/audit", params={"pair": "not-an-id"})
    assert answer.status_code == 422
    assert "nhsuk-error-summary" in answer.text
    assert 'id="pair-error"' in answer.text
    assert 'value="not-an-id"' in answer.text


def test_a_pair_of_another_scheme_has_no_trail_here(
    site: Site, auditor: httpx.Client, script: ScriptedScheme
) -> None:
    other = site.api.scheme()["id"]
    relationship, _, _ = site.api.matched_pair(other)
    answer = auditor.get(f"/schemes/{script.scheme_id}/audit", params={"pair": relationship["id"]})
    assert answer.status_code == 404


def test_the_access_log_names_who_read_a_pairs_record(
    site: Site, auditor: httpx.Client, script: ScriptedScheme
) -> None:
    pair = str(script.relationships["asha"])
    site.api.ok(site.api.admin.get(f"/v1/relationships/{pair}"))
    page = auditor.get(f"/schemes/{script.scheme_id}/access-log", params={"record": pair})
    assert page.status_code == 200
    assert 'id="access-log"' in page.text
    assert pair in page.text
    assert "admin" in page.text


def test_a_visitor_not_signed_in_is_sent_to_sign_in(site: Site, script: ScriptedScheme) -> None:
    answer = site.visitor().get(f"/schemes/{script.scheme_id}/reports")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in?next=")
