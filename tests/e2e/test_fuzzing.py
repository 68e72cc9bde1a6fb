"""Fuzzing: schemathesis sends generated requests, valid and invalid, to every operation
of the API's own OpenAPI document, as each role and with no token, over a real socket.

Whatever a client sends: no answer is a 5xx, every error is problem+json, every
answer fits the document, and a refused request leaves the event store as it was.
Bounded (ten generated requests per operation, each sent as every role) and
derandomized, so a run in CI is the same run every time, and takes well under a minute.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from services.api.app import create_api
from tests.e2e.client import ADMIN_TOKEN, Api

# The least trusted first and admin last: the refusals come before the one role whose
# acceptance may change what the next role would meet.
ROLES = ("anonymous", "reporter", "auditor", "mentee", "mentor", "coordinator", "admin")
PROBLEM_JSON = "application/problem+json"

# Examples from the document and generated requests, valid and not, a bounded number
# of each; not the coverage phase, whose boundary cases are unbounded in number (some
# 2,500 requests, seventeen thousand across the roles, over two minutes on its own).
schema = schemathesis.openapi.from_dict(
    create_api().openapi(),
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}}),
)

# Ids of real records, by the name of the parameter or field that takes them, filled
# in once the records exist (the `world` fixture): generated requests sometimes name
# them, so that the fuzzer gets past "not found" to the rules behind it.
REAL_IDS: dict[str, list[str]] = {}


def with_real_ids(values: Any) -> st.SearchStrategy[Any]:
    """`values` as generated, or with each id the fuzzer can name replaced by a real one."""
    if not isinstance(values, dict):
        return st.just(values)
    named = [name for name in values if REAL_IDS.get(name)]
    if not named:
        return st.just(values)
    real = st.fixed_dictionaries({name: st.sampled_from(REAL_IDS[name]) for name in named})
    return st.one_of(st.just(values), real.map(lambda ids: values | ids))


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    return with_real_ids(path_parameters)


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any]) -> Any:
    return with_real_ids(query)


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    return with_real_ids(body)


@dataclass(frozen=True)
class World:
    """A scheme with a matched pair and a waiting mentee, and a token for each role."""

    api: Api
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def world(api: Api) -> Iterator[World]:
    scheme = api.scheme()
    relationship, mentor, mentee = api.matched_pair(scheme["id"])
    waiting = api.mentee(scheme["id"], name="Dr Cara Diaz", email="cara.diaz@example.nhs.uk")
    requested = api.request(scheme["id"], waiting["id"])
    REAL_IDS.update(
        scheme_id=[scheme["id"]],
        mentor_id=[mentor["id"]],
        mentee_id=[mentee["id"], waiting["id"]],
        relationship_id=[relationship["id"], requested["id"]],
        aggregate_id=[relationship["id"], mentee["id"]],
    )
    tokens = {
        "admin": ADMIN_TOKEN,
        "coordinator": api.token("coordinator", scheme_ids=[scheme["id"]]),
        "mentor": api.token("mentor", subject_id=mentor["id"]),
        "mentee": api.token("mentee", subject_id=mentee["id"]),
        "reporter": api.token("reporter"),
        "auditor": api.token("auditor"),
    }
    yield World(api, tokens)
    REAL_IDS.clear()


@pytest.mark.postgres
# Raised from inside schemathesis's own strategies, not from anything here.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
@schema.parametrize()
@settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_request_breaks_the_api_or_changes_anything_when_refused(
    case: Any, world: World
) -> None:
    """Each generated request is sent as every role in turn, one at a time (so the
    event store's head can only have moved because of that one request)."""
    for role in ROLES:
        check_answer_as(world, role, case)


def check_answer_as(world: World, role: str, case: Any) -> None:
    api = world.api
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role in world.tokens else {}
    head = api.count_events()
    response = case.call(base_url=api.base_url, headers=headers)
    case.validate_response(
        response,
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )
    if response.status_code >= 400:
        media_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
        assert media_type == PROBLEM_JSON, (role, response.status_code, response.text)
        assert api.count_events() == head, (role, "a refused request changed the event store")
