"""Every report's CSV is safe to open in a spreadsheet: text that people typed and a
spreadsheet would run as a formula (a mentor's specialty `=cmd|' /C calc'!A0`)
arrives behind a single quote, in every export (services.api.csv_export)."""

import csv
import io
from uuid import UUID

import pytest
from fastapi.routing import APIRoute

from services.api.csv_export import FORMULA_STARTS
from services.api.routes import reports
from tests.e2e.client import Api
from tests.support.mentoring import fact

SPECIALTY = "=cmd|' /C calc'!A0"
INSTITUTION = "+44 20 7946 0000"
GRADE = "@SUM(A1:A9)"
GROUP = "-2+3+cmd|' /C calc'!A0"
DESCRIPTION = '=HYPERLINK("http://example.org","click")'

# Each report that answers CSV, what it is asked, who asks, and the planted text it
# must show neutralised (the reports with nothing people typed have none).
CSV_REPORTS: dict[str, tuple[str, str, set[str]]] = {
    "/v1/reports/stalled": ("scheme_id={scheme}", "admin", set()),
    "/v1/reports/evaluation": ("scheme_id={scheme}", "admin", {DESCRIPTION}),
    "/v1/reports/mentor-load": ("scheme_id={scheme}", "admin", {SPECIALTY, INSTITUTION, GRADE}),
    "/v1/reports/equity": ("scheme_id={scheme}", "admin", {GROUP}),
    "/v1/reports/counts": ("scheme_id={scheme}", "admin", set()),
    "/v1/reports/audit": ("limit=1000", "auditor", set()),
    "/v1/reports/access-log": ("limit=1000", "auditor", set()),
}


def answers_csv(route: APIRoute) -> bool:
    return "text/csv" in route.responses.get(200, {}).get("content", {})


def test_every_report_that_answers_csv_is_tested_here() -> None:
    declared = {r.path for r in reports.router.routes if isinstance(r, APIRoute) and answers_csv(r)}
    assert declared == set(CSV_REPORTS)


@pytest.fixture(scope="module")
def scheme(api: Api) -> str:
    """A scheme whose people typed formulas into every free-text field a report shows,
    with a stalled request and an access to a personal record."""
    objective = {
        "id": "uptake",
        "description": DESCRIPTION,
        "metric": "uptake_rate",
        "comparison": ">=",
        "target": 0.5,
    }
    scheme_id = str(api.scheme(objectives=[objective])["id"])
    api.mentor(scheme_id, specialty=SPECIALTY, institution=INSTITUTION, grade=GRADE)
    mentee = api.mentee(scheme_id, demographics={"ethnicity": GROUP})
    waiting = UUID(api.request(scheme_id, mentee["id"])["id"])
    mentoring = api.runtime.mentoring
    mentoring.flag_stalled(waiting, "match_within", fact(mentoring, waiting, "match_within"))
    api.ok(api.as_(api.token("auditor")).get(f"/v1/mentees/{mentee['id']}"))
    return scheme_id


@pytest.mark.parametrize("path", sorted(CSV_REPORTS))
def test_no_csv_cell_starts_a_formula(api: Api, scheme: str, path: str) -> None:
    query, role, planted = CSV_REPORTS[path]
    caller = api.admin if role == "admin" else api.as_(api.token(role))
    response = caller.get(f"{path}?{query.format(scheme=scheme)}", headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    cells = [value for row in csv.reader(io.StringIO(response.text)) for value in row]
    assert len(cells) > 1, "the scheme should give some of the report"
    assert [value for value in cells if value.startswith(FORMULA_STARTS)] == []
    assert {"'" + text for text in planted} <= set(cells)
