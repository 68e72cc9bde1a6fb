"""After the scripted scheme (tests/support/scripted_scheme.py), every report and
every record of it is served in the shape /openapi.json declares for its route, and
/openapi.json is the document docs/api.md is made from.

Records pass FastAPI's check of the route's model on the way out (a mismatch would
be a 500); reports are sent as they are read, so here they are held to their
models, which refuse fields they do not declare."""

from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from services.api.app import create_api
from services.api.routes import reports
from tests.e2e.client import Api
from tests.support.clock import Clock
from tests.support.mentoring import mentoring
from tests.support.scripted_scheme import ScriptedScheme, play


@pytest.fixture(scope="module")
def script(api: Api) -> ScriptedScheme:
    with mentoring(api.runtime.database_url) as app:
        return play(app, Clock())


def declared(path: str) -> TypeAdapter[Any]:
    """The answer model the report at this path declares."""
    for route in reports.router.routes:
        if isinstance(route, APIRoute) and route.path == path and "GET" in route.methods:
            return TypeAdapter(route.response_model)
    raise LookupError(path)


REPORTS = {
    "/v1/reports/stalled": "scheme_id={scheme}",
    "/v1/reports/evaluation": "scheme_id={scheme}",
    "/v1/reports/mentor-load": "scheme_id={scheme}",
    "/v1/reports/equity": "scheme_id={scheme}",
    "/v1/reports/counts": "scheme_id={scheme}",
    "/v1/reports/audit": "limit=1000",
    "/v1/reports/audit/verify": "",
    "/v1/reports/access-log": "limit=1000",
}


@pytest.mark.parametrize("path", sorted(REPORTS))
def test_each_report_is_served_in_its_declared_shape(
    api: Api, script: ScriptedScheme, path: str
) -> None:
    auditor = api.as_(api.token("auditor"))
    api.ok(auditor.get(f"/v1/mentees/{next(iter(script.mentees.values()))}"))  # an access
    served = api.ok(auditor.get(f"{path}?{REPORTS[path].format(scheme=script.scheme_id)}"))
    declared(path).validate_python(served)
    assert served, f"the scripted scheme should give some of {path}"


def test_every_record_of_the_script_is_served_under_its_model(
    api: Api, script: ScriptedScheme
) -> None:
    """Matched, met, stalled, ended and rematched pairs, with their rationales,
    agreements and histories, to callers who see more or less of them."""
    auditor, coordinator = api.as_(api.token("auditor")), api.admin
    assert api.ok(coordinator.get(f"/v1/schemes/{script.scheme_id}"))["id"]
    for relationship_id in script.relationships.values():
        for caller in (auditor, coordinator):
            api.ok(caller.get(f"/v1/relationships/{relationship_id}"))
            api.ok_list(caller.get(f"/v1/relationships/{relationship_id}/events"))
    for mentor_id in script.mentors.values():
        api.ok(auditor.get(f"/v1/mentors/{mentor_id}"))
    for mentee_id in script.mentees.values():
        api.ok(coordinator.get(f"/v1/mentees/{mentee_id}"))
    listed = api.ok(coordinator.get("/v1/relationships", params={"limit": 500}))
    assert len(listed["items"]) == len(script.relationships)
    assert any(item["rationale"] for item in listed["items"])
    assert any(item["agreement"] for item in listed["items"])


def test_the_served_openapi_document_is_the_one_the_reference_is_made_from(api: Api) -> None:
    served = api.ok(api.admin.get("/openapi.json"))
    assert served == create_api().openapi()
