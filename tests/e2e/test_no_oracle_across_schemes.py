"""No existence oracle across schemes: naming a person of another scheme is answered
exactly as naming nobody, so a scheme's coordinator learns nothing of who is in
another scheme."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.client import Api


@dataclass(frozen=True)
class Schemes:
    here: str
    requested: str  # a relationship of `here`, waiting for a mentor
    mentee_here: str
    mentor_elsewhere: str
    mentee_elsewhere: str


@pytest.fixture(scope="module")
def schemes(api: Api) -> Schemes:
    here, elsewhere = api.scheme()["id"], api.scheme(name="Another scheme")["id"]
    mentee_here = api.mentee(here)["id"]
    return Schemes(
        here=here,
        requested=api.request(here, api.mentee(here)["id"])["id"],
        mentee_here=mentee_here,
        mentor_elsewhere=api.mentor(elsewhere)["id"],
        mentee_elsewhere=api.mentee(elsewhere)["id"],
    )


# Each probe names a person (by id) from the scheme `here`.
Probe = Callable[[httpx.Client, Schemes, str], httpx.Response]
PROBES: dict[str, tuple[Probe, str]] = {
    "invite a mentor": (
        lambda caller, s, person: caller.post(
            f"/v1/relationships/{s.requested}/invite", json={"mentor_id": person}
        ),
        "mentor_elsewhere",
    ),
    "request a mentor for a mentee": (
        lambda caller, s, person: caller.post(
            "/v1/relationships", json={"scheme_id": s.here, "mentee_id": person}
        ),
        "mentee_elsewhere",
    ),
    "prefer a mentor": (
        lambda caller, s, person: caller.post(
            "/v1/relationships",
            json={
                "scheme_id": s.here,
                "mentee_id": s.mentee_here,
                "preferred_mentor_ids": [person],
            },
        ),
        "mentor_elsewhere",
    ),
}


@pytest.mark.parametrize("role", ["coordinator", "admin"])
@pytest.mark.parametrize("probe", sorted(PROBES))
def test_a_person_of_another_scheme_is_answered_as_nobody(
    api: Api, schemes: Schemes, probe: str, role: str
) -> None:
    send, elsewhere = PROBES[probe]
    caller = api.admin if role == "admin" else api.as_(api.token(role, scheme_ids=[schemes.here]))
    person, nobody = getattr(schemes, elsewhere), str(uuid.uuid4())
    before = api.count_events()

    of_another_scheme = send(caller, schemes, person)
    unknown = send(caller, schemes, nobody)

    assert of_another_scheme.status_code == unknown.status_code, of_another_scheme.text
    assert of_another_scheme.status_code in (404, 422)
    assert of_another_scheme.headers["content-type"] == unknown.headers["content-type"]
    assert of_another_scheme.text.replace(person, nobody) == unknown.text
    assert api.count_events() == before
