"""The OpenAPI document describes every answer, and docs/api.md is made from it."""

from pathlib import Path
from typing import Any

import pytest

from domain.actors import ROLES
from services.access import POLICY, Action
from services.api.app import create_api
from services.api.reference import COMMAND, METHODS, reference

DOCS = Path(__file__).parents[2] / "docs" / "api.md"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_api().openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if method in METHODS
    ]


def is_named(schema: dict[str, Any]) -> bool:
    """A schema of a declared model (or a list of one), not a bare `object`."""
    if schema.get("type") == "array":
        return is_named(schema["items"])
    return "$ref" in schema


def test_every_route_answers_with_a_declared_schema(document: dict[str, Any]) -> None:
    """A 2xx answer of each route has a named JSON schema, or is text, or is empty."""
    undescribed = []
    for route, operation in operations(document):
        answers = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        described = answers and all(
            status == "204"
            or all(
                is_named(content["schema"]) if media.endswith("json") else "schema" in content
                for media, content in response.get("content", {"": {}}).items()
            )
            for status, response in answers.items()
        )
        if not described:
            undescribed.append(route)
    assert undescribed == []
    assert len(operations(document)) > 30


def test_every_error_answer_is_a_problem(document: dict[str, Any]) -> None:
    for route, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert list(response["content"]) == ["application/problem+json"], route
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_routes_behind_a_token_say_they_may_answer_401_403_422_and_429(
    document: dict[str, Any],
) -> None:
    for route, operation in operations(document):
        if route.split()[1].startswith("/v1/"):
            assert {"401", "403", "422", "429"} <= operation["responses"].keys(), route


def test_every_route_behind_a_token_names_the_roles_the_policy_gives_it(
    document: dict[str, Any],
) -> None:
    roles = {route: operation.get("x-roles") for route, operation in operations(document)}
    assert all(roles[route] for route in roles if route.split()[1].startswith("/v1/"))
    assert roles["GET /healthz"] is None
    assert roles["POST /v1/tokens"] == ["admin"]
    assert set(roles["GET /v1/reports/equity"]) == POLICY[Action.READ_AGGREGATE_REPORTS]
    assert set(roles["POST /v1/relationships/{relationship_id}/end"]) == POLICY[Action.TAKE_PART]
    assert roles["GET /v1/schemes/{scheme_id}"] == list(ROLES)  # any caller with a token


def test_the_committed_reference_is_made_from_the_code(document: dict[str, Any]) -> None:
    assert DOCS.read_text() == reference(document), (
        f"docs/api.md no longer matches the routes: regenerate it with `{COMMAND}`"
    )
