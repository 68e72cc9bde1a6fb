"""Staff accounts through the API: an admin adds, lists and changes who signs in to
the pages as a coordinator, reporter, auditor or admin."""

import uuid
from collections.abc import Iterator
from typing import cast

import pytest

from tests.e2e.client import Api
from tests.e2e.conftest import serving


@pytest.fixture(scope="module")
def api(postgres_server: str) -> Iterator[Api]:
    with serving(postgres_server) as api:
        yield api


def email() -> str:
    return f"staff-{uuid.uuid4().hex[:8]}@example.nhs.uk"


def test_an_admin_adds_a_coordinator_of_a_scheme_and_finds_it_listed(api: Api) -> None:
    scheme = api.scheme()["id"]
    address = email()
    body = {"name": "Dr Kay Lead", "email": address, "role": "coordinator", "scheme_ids": [scheme]}

    added = api.ok(api.admin.post("/v1/staff", json=body), 201)

    listed = [a for a in api.ok_list(api.admin.get("/v1/staff")) if a["id"] == added["id"]]
    assert listed == [
        {
            "id": added["id"],
            "name": "Dr Kay Lead",
            "email": address,
            "role": "coordinator",
            "scheme_ids": [scheme],
            "active": True,
            "created_at": listed[0]["created_at"],
            "updated_at": listed[0]["updated_at"],
        }
    ]


def test_an_email_that_has_an_account_already_is_a_conflict_in_any_case(api: Api) -> None:
    address = email()
    api.ok(
        api.admin.post("/v1/staff", json={"name": "A", "email": address, "role": "auditor"}), 201
    )
    again = api.admin.post(
        "/v1/staff", json={"name": "B", "email": address.upper(), "role": "reporter"}
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"role": "coordinator", "scheme_ids": [str(uuid.uuid4())]}, "scheme"),
        ({"role": "coordinator"}, "at least one scheme"),
        ({"role": "reporter", "scheme_ids": ["{scheme}"]}, "every scheme"),
        ({"role": "mentor"}, ""),
        ({"role": "auditor", "email": "not-an-email"}, ""),
    ],
    ids=["unknown scheme", "coordinator of nothing", "reporter of one scheme", "role", "email"],
)
def test_an_account_that_cannot_be_is_refused_as_invalid(
    api: Api, body: dict[str, object], says: str
) -> None:
    scheme = api.scheme()["id"]
    given = cast(list[str], body.get("scheme_ids", []))
    schemes = [scheme if s == "{scheme}" else s for s in given]
    before = len(api.ok_list(api.admin.get("/v1/staff")))
    answer = api.admin.post(
        "/v1/staff", json={"name": "Dr X", "email": email()} | body | {"scheme_ids": schemes}
    )
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["detail"] or says == ""
    assert len(api.ok_list(api.admin.get("/v1/staff"))) == before


def test_changing_the_role_from_coordinator_drops_the_schemes(api: Api) -> None:
    scheme = api.scheme()["id"]
    body = {"name": "Dr C", "email": email(), "role": "coordinator", "scheme_ids": [scheme]}
    added = api.ok(api.admin.post("/v1/staff", json=body), 201)

    changed = api.ok(api.admin.patch(f"/v1/staff/{added['id']}", json={"role": "auditor"}))

    assert (changed["role"], changed["scheme_ids"], changed["active"]) == ("auditor", [], True)


def test_a_coordinator_can_be_given_other_schemes_but_not_unknown_ones(api: Api) -> None:
    first, second = api.scheme()["id"], api.scheme()["id"]
    body = {"name": "Dr C", "email": email(), "role": "coordinator", "scheme_ids": [first]}
    added = api.ok(api.admin.post("/v1/staff", json=body), 201)
    path = f"/v1/staff/{added['id']}"

    moved = api.ok(api.admin.patch(path, json={"scheme_ids": [second]}))
    refused = api.admin.patch(path, json={"scheme_ids": [str(uuid.uuid4())]})

    assert moved["scheme_ids"] == [second]
    assert refused.status_code == 422
    (kept,) = [a for a in api.ok_list(api.admin.get("/v1/staff")) if a["id"] == added["id"]]
    assert kept["scheme_ids"] == [second]


def test_changing_an_account_that_does_not_exist_is_not_found(api: Api) -> None:
    answer = api.admin.patch(f"/v1/staff/{uuid.uuid4()}", json={"active": False})
    assert answer.status_code == 404
