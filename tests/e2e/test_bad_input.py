"""Bad input over a real socket: every mistake a client can make is answered with a
4xx application/problem+json saying what was wrong (and, for invalid input, where),
never a 500, and changes nothing."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.client import TODAY, Api

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
ELEVEN_YEARS = (datetime.now(UTC) + timedelta(days=11 * 365)).date().isoformat()
SIX_YEARS = (datetime.now(UTC) + timedelta(days=6 * 365)).date().isoformat()
LIMIT = 16384  # MENTORING_MAX_BODY_BYTES of the e2e fixture
PROBLEM_FIELDS = {"type", "title", "status", "detail"}

SURVEY = [
    {
        "id": "hopeful",
        "text": "How hopeful are you about mentoring?",
        "kind": "likert5",
        "audience": "mentee",
        "stages": ["baseline"],
    }
]
SCHEME = {"name": "Core medical training", "matching_model": "assigned"}
MENTOR = {
    "scheme_id": "{scheme}",
    "name": "Dr Priya Nair",
    "email": "priya.nair@example.nhs.uk",
    "grade": "consultant",
    "specialty": "renal medicine",
    "institution": "Western General",
    "capacity": 2,
}
MENTEE = {
    "scheme_id": "{scheme}",
    "cohort": "2026",
    "name": "Dr Tom Hughes",
    "email": "tom.hughes@example.nhs.uk",
    "grade": "FY2",
    "specialty": "renal medicine",
    "specialty_decided": False,
    "institution": "Western General",
}
MEETING = {"held_on": "{today}", "mode": "video", "duration_minutes": 45}
AGREEMENT = {
    "meeting_frequency": "monthly",
    "ground_rules_agreed": True,
    "confidentiality_agreed": True,
}
FEEDBACK = {"stage": "baseline", "respondent": "mentee", "answers": {"hopeful": 4}}
MATCHED = "/v1/relationships/{matched}"
JSON = {"content-type": "application/json"}
# Python's json (and so FastAPI) reads NaN, which is not JSON and no target.
NAN_TARGET = (
    b'{"name": "x", "matching_model": "assigned", "objectives": [{"id": "o", '
    b'"description": "d", "metric": "match_rate", "comparison": ">=", "target": NaN}]}'
)


def without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}


def with_timer(name: str, value: Any) -> dict[str, Any]:
    return SCHEME | {"timers": {name: value}}


@dataclass(frozen=True)
class Bad:
    """A bad request and its answer. `loc` is where the error must be reported (a
    prefix of one error's loc). `{scheme}`, `{mentor}`, `{mentee}`, `{requested}`,
    `{invited}`, `{matched}`, `{active}`, `{missing}` (an id of nothing), `{today}`,
    `{tomorrow}`, `{yesterday}`, `{six_years}` and `{eleven_years}` (from today) in
    the path and JSON body stand for records of the module and dates."""

    method: str
    path: str
    json: Any = None
    status: int = 422
    loc: tuple[str | int, ...] = ()
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


CASES: dict[str, Bad] = {
    # Wrong types: numbers and booleans are strict, never guessed.
    "capacity as a string": Bad(
        "POST", "/v1/mentors", MENTOR | {"capacity": "2"}, loc=("body", "capacity")
    ),
    "capacity as a float": Bad(
        "POST", "/v1/mentors", MENTOR | {"capacity": 2.0}, loc=("body", "capacity")
    ),
    "capacity as a boolean": Bad(
        "POST", "/v1/mentors", MENTOR | {"capacity": True}, loc=("body", "capacity")
    ),
    "capacity below zero": Bad(
        "POST", "/v1/mentors", MENTOR | {"capacity": -1}, loc=("body", "capacity")
    ),
    "capacity huge": Bad(
        "POST", "/v1/mentors", MENTOR | {"capacity": 10**30}, loc=("body", "capacity")
    ),
    "name as a number": Bad("POST", "/v1/mentors", MENTOR | {"name": 42}, loc=("body", "name")),
    "blank name": Bad("POST", "/v1/mentors", MENTOR | {"name": ""}, loc=("body", "name")),
    "name of 10k characters": Bad(
        "POST", "/v1/mentors", MENTOR | {"name": "x" * 10_000}, loc=("body", "name")
    ),
    "name with a NUL": Bad(
        "POST", "/v1/mentors", MENTOR | {"name": "Dr \u0000 Nair"}, loc=("body",)
    ),
    "not an email": Bad("POST", "/v1/mentors", MENTOR | {"email": "priya"}, loc=("body", "email")),
    "interests as a string": Bad(
        "POST", "/v1/mentors", MENTOR | {"interests": "renal"}, loc=("body", "interests")
    ),
    "accept as a string": Bad(
        "POST", "/v1/relationships/{invited}/respond", {"accept": "yes"}, loc=("body", "accept")
    ),
    "accept as a number": Bad(
        "POST", "/v1/relationships/{invited}/respond", {"accept": 1}, loc=("body", "accept")
    ),
    "specialty_decided as a string": Bad(
        "POST",
        "/v1/mentees",
        MENTEE | {"specialty_decided": "true"},
        loc=("body", "specialty_decided"),
    ),
    "available as a string": Bad(
        "PATCH", "/v1/mentors/{mentor}", {"available": "no"}, loc=("body", "available")
    ),
    "duration as a string": Bad(
        "POST",
        MATCHED + "/meetings",
        MEETING | {"duration_minutes": "45"},
        loc=("body", "duration_minutes"),
    ),
    "duration of zero minutes": Bad(
        "POST",
        MATCHED + "/meetings",
        MEETING | {"duration_minutes": 0},
        loc=("body", "duration_minutes"),
    ),
    "eligible count as a string": Bad(
        "POST",
        "/v1/schemes",
        SCHEME | {"cohorts": [{"name": "2026", "eligible_count": "10"}]},
        loc=("body", "cohorts", 0, "eligible_count"),
    ),
    "objective target not a number": Bad(
        "POST",
        "/v1/schemes",
        content=NAN_TARGET,
        headers=JSON,
        loc=("body", "objectives", 0, "target"),
    ),
    "answer as a string": Bad(
        "POST",
        MATCHED + "/feedback",
        FEEDBACK | {"answers": {"hopeful": "4"}},
        loc=("body", "answers", "hopeful"),
    ),
    "answer out of range": Bad(
        "POST", MATCHED + "/feedback", FEEDBACK | {"answers": {"hopeful": 9}}
    ),
    "answer to no such question": Bad(
        "POST", MATCHED + "/feedback", FEEDBACK | {"answers": {"happy": 5}}
    ),
    "unknown end kind": Bad("POST", MATCHED + "/end", {"kind": "amicable"}, loc=("body", "kind")),
    "unknown meeting mode": Bad(
        "POST", MATCHED + "/meetings", MEETING | {"mode": "pigeon"}, loc=("body", "mode")
    ),
    "unknown pause reason": Bad(
        "POST", MATCHED + "/pause", {"reason_category": "holiday"}, loc=("body", "reason_category")
    ),
    "unknown matching model": Bad(
        "POST",
        "/v1/schemes",
        SCHEME | {"matching_model": "lottery"},
        loc=("body", "matching_model"),
    ),
    "unknown role for a token": Bad(
        "POST", "/v1/tokens", {"role": "superuser", "label": "x"}, loc=("body", "role")
    ),
    "mentee token for nobody": Bad(
        "POST", "/v1/tokens", {"role": "mentee", "label": "x", "subject_id": "{missing}"}
    ),
    "mentee of another scheme": Bad(
        "POST",
        "/v1/relationships",
        {"scheme_id": "{other_scheme}", "mentee_id": "{mentee}"},
        status=404,
    ),
    "cohort the scheme lacks": Bad("POST", "/v1/mentees", MENTEE | {"cohort": "1999"}),
    # Explicit nulls for settings a scheme must have.
    "scheme name set to null": Bad(
        "PATCH", "/v1/schemes/{scheme}", {"name": None}, loc=("body", "name")
    ),
    "matching model set to null": Bad(
        "PATCH", "/v1/schemes/{scheme}", {"matching_model": None}, loc=("body", "matching_model")
    ),
    "acceptance set to null": Bad(
        "PATCH",
        "/v1/schemes/{scheme}",
        {"require_mentor_acceptance": None},
        loc=("body", "require_mentor_acceptance"),
    ),
    "cohorts set to null": Bad(
        "PATCH", "/v1/schemes/{scheme}", {"cohorts": None}, loc=("body", "cohorts")
    ),
    "timers set to null": Bad(
        "PATCH", "/v1/schemes/{scheme}", {"timers": None}, loc=("body", "timers")
    ),
    # Unknown ids.
    "unknown scheme": Bad("GET", "/v1/schemes/{missing}", status=404),
    "unknown mentor": Bad("GET", "/v1/mentors/{missing}", status=404),
    "unknown mentee": Bad("GET", "/v1/mentees/{missing}", status=404),
    "unknown relationship": Bad("GET", "/v1/relationships/{missing}", status=404),
    "history of an unknown relationship": Bad(
        "GET", "/v1/relationships/{missing}/events", status=404
    ),
    "a mentor's id as a relationship's": Bad("GET", "/v1/relationships/{mentor}", status=404),
    "a mentee's id as a mentor's": Bad("GET", "/v1/mentors/{mentee}", status=404),
    "change an unknown scheme": Bad("PATCH", "/v1/schemes/{missing}", {"name": "x"}, status=404),
    "role in an unknown scheme": Bad(
        "POST",
        "/v1/schemes/{missing}/roles",
        {"role": "lead", "person": "Dr A", "from": "{today}"},
        status=404,
    ),
    "change an unknown mentor": Bad("PATCH", "/v1/mentors/{missing}", {"capacity": 1}, status=404),
    "mentor in an unknown scheme": Bad(
        "POST", "/v1/mentors", MENTOR | {"scheme_id": "{missing}"}, status=404
    ),
    "request for an unknown mentee": Bad(
        "POST", "/v1/relationships", {"scheme_id": "{scheme}", "mentee_id": "{missing}"}, status=404
    ),
    "invite an unknown mentor": Bad(
        "POST", "/v1/relationships/{requested}/invite", {"mentor_id": "{missing}"}, status=404
    ),
    "invite a mentee as mentor": Bad(
        "POST", "/v1/relationships/{requested}/invite", {"mentor_id": "{mentee}"}, status=404
    ),
    "end an unknown relationship": Bad(
        "POST", "/v1/relationships/{missing}/end", {"kind": "withdrawn"}, status=404
    ),
    "rematch an unknown relationship": Bad(
        "POST", "/v1/relationships/{missing}/rematch", status=404
    ),
    "as of before it was requested": Bad(
        "GET", MATCHED + "?as_of=2000-01-01T00:00:00Z", status=404
    ),
    "unknown path": Bad("GET", "/v1/nothing-here", status=404),
    # Malformed UUIDs, in paths, queries and bodies.
    "malformed relationship id": Bad(
        "GET", "/v1/relationships/not-a-uuid", loc=("path", "relationship_id")
    ),
    "malformed mentor id": Bad(
        "PATCH", "/v1/mentors/123", {"capacity": 1}, loc=("path", "mentor_id")
    ),
    "malformed id in a command": Bad(
        "POST", "/v1/relationships/xyz/end", {"kind": "withdrawn"}, loc=("path", "relationship_id")
    ),
    "malformed scheme id in a query": Bad(
        "GET", "/v1/relationships?scheme_id=nope", loc=("query", "scheme_id")
    ),
    "malformed mentor id in a body": Bad(
        "POST",
        "/v1/relationships/{requested}/invite",
        {"mentor_id": "nope"},
        loc=("body", "mentor_id"),
    ),
    "malformed line manager id": Bad(
        "POST",
        "/v1/mentees",
        MENTEE | {"line_manager_ids": ["boss"]},
        loc=("body", "line_manager_ids", 0),
    ),
    # Impossible dates and times.
    "meeting on 30 February": Bad(
        "POST", MATCHED + "/meetings", MEETING | {"held_on": "2026-02-30"}, loc=("body", "held_on")
    ),
    "meeting in month 13": Bad(
        "POST", MATCHED + "/meetings", MEETING | {"held_on": "2026-13-01"}, loc=("body", "held_on")
    ),
    "meeting date in words": Bad(
        "POST",
        MATCHED + "/meetings",
        MEETING | {"held_on": "last Tuesday"},
        loc=("body", "held_on"),
    ),
    "role from 30 February": Bad(
        "POST",
        "/v1/schemes/{scheme}/roles",
        {"role": "lead", "person": "Dr A", "from": "2026-02-30"},
        loc=("body", "from"),
    ),
    "pause until 31 April": Bad(
        "POST",
        MATCHED + "/pause",
        {"reason_category": "sickness", "until": "2026-04-31"},
        loc=("body", "until"),
    ),
    "extend until 30 February": Bad(
        "POST", "/v1/relationships/{active}/extend", {"until": "2027-02-30"}, loc=("body", "until")
    ),
    "extend until a time without a zone": Bad(
        "POST",
        "/v1/relationships/{active}/extend",
        {"until": "2030-01-01T10:00:00"},
        loc=("body", "until"),
    ),
    "trained on a day month year date": Bad(
        "PATCH", "/v1/mentors/{mentor}", {"trained_on": "30/01/2026"}, loc=("body", "trained_on")
    ),
    "as of 30 February": Bad(
        "GET", MATCHED + "?as_of=2026-02-30T00:00:00Z", loc=("query", "as_of")
    ),
    "as of a time without a zone": Bad(
        "GET", MATCHED + "?as_of=2026-01-01T00:00:00", loc=("query", "as_of")
    ),
    # Dates the domain refuses.
    "meeting tomorrow": Bad("POST", MATCHED + "/meetings", MEETING | {"held_on": "{tomorrow}"}),
    "meeting before the match": Bad(
        "POST", MATCHED + "/meetings", MEETING | {"held_on": "2000-01-01"}
    ),
    "pause until yesterday": Bad(
        "POST", MATCHED + "/pause", {"reason_category": "sickness", "until": "{yesterday}"}
    ),
    "extend to before the planned end": Bad(
        "POST", "/v1/relationships/{active}/extend", {"until": "{today}"}
    ),
    "extend to the end of time": Bad(
        "POST", "/v1/relationships/{active}/extend", {"until": "9999-12-31T23:59:59-14:00"}
    ),
    "extend to eleven years after the first meeting": Bad(
        "POST", "/v1/relationships/{active}/extend", {"until": "{eleven_years}"}
    ),
    "pause until six years from now": Bad(
        "POST", MATCHED + "/pause", {"reason_category": "sickness", "until": "{six_years}"}
    ),
    "trained tomorrow": Bad("PATCH", "/v1/mentors/{mentor}", {"trained_on": "{tomorrow}"}),
    "trained in the year 1": Bad("POST", "/v1/mentors", MENTOR | {"trained_on": "0001-01-01"}),
    "role from the year 9999": Bad(
        "POST",
        "/v1/schemes/{scheme}/roles",
        {"role": "lead", "person": "Dr A", "from": "9999-12-31"},
    ),
    "relationships planned for eleven years": Bad(
        "POST", "/v1/schemes", with_timer("planned_duration", "P4018D")
    ),
    # Unknown fields are refused, not ignored.
    "unknown field on a scheme": Bad(
        "POST", "/v1/schemes", SCHEME | {"colour": "blue"}, loc=("body", "colour")
    ),
    "unknown timer": Bad(
        "POST", "/v1/schemes", with_timer("snooze", "P1D"), loc=("body", "timers", "snooze")
    ),
    "unknown field on a mentor": Bad(
        "POST", "/v1/mentors", MENTOR | {"phone": "0131"}, loc=("body", "phone")
    ),
    "email is not for patching": Bad(
        "PATCH", "/v1/mentors/{mentor}", {"email": "new@example.org"}, loc=("body", "email")
    ),
    "a note on a response": Bad(
        "POST",
        "/v1/relationships/{invited}/respond",
        {"accept": True, "note": "gladly"},
        loc=("body", "note"),
    ),
    "what was said at a meeting": Bad(
        "POST", MATCHED + "/meetings", MEETING | {"notes": "we discussed..."}, loc=("body", "notes")
    ),
    "unknown field on a token": Bad(
        "POST",
        "/v1/tokens",
        {"role": "reporter", "label": "x", "expires": "never"},
        loc=("body", "expires"),
    ),
    # Missing fields.
    "mentee without an email": Bad(
        "POST", "/v1/mentees", without(MENTEE, "email"), loc=("body", "email")
    ),
    "scheme without a matching model": Bad(
        "POST", "/v1/schemes", {"name": "x"}, loc=("body", "matching_model")
    ),
    "meeting without a mode": Bad(
        "POST", MATCHED + "/meetings", without(MEETING, "mode"), loc=("body", "mode")
    ),
    "agreement without confidentiality": Bad(
        "POST",
        MATCHED + "/agreement",
        without(AGREEMENT, "confidentiality_agreed"),
        loc=("body", "confidentiality_agreed"),
    ),
    "response without an answer": Bad(
        "POST", "/v1/relationships/{invited}/respond", {}, loc=("body", "accept")
    ),
    "invitation without a mentor": Bad(
        "POST", "/v1/relationships/{requested}/invite", {}, loc=("body", "mentor_id")
    ),
    "ending without a kind": Bad("POST", MATCHED + "/end", {}, loc=("body", "kind")),
    "no body at all": Bad("POST", MATCHED + "/end", loc=("body",)),
    "feedback without answers": Bad(
        "POST", MATCHED + "/feedback", FEEDBACK | {"answers": {}}, loc=("body", "answers")
    ),
    # Bodies that are not JSON objects.
    "invalid JSON": Bad(
        "POST", "/v1/schemes", content=b'{"name": "x",', headers=JSON, loc=("body",)
    ),
    "JSON null": Bad("POST", "/v1/schemes", content=b"null", headers=JSON, loc=("body",)),
    "a JSON array": Bad("POST", "/v1/schemes", [SCHEME], loc=("body",)),
    "a form instead of JSON": Bad(
        "POST",
        "/v1/schemes",
        content=b"name=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
        loc=("body",),
    ),
    "bytes that are not UTF-8": Bad(
        "POST", "/v1/schemes", content=b'{"name": "\xff\xfe"}', headers=JSON, status=400
    ),
    "JSON nested too deeply": Bad(
        "POST", "/v1/schemes", content=b"[" * 5000 + b"]" * 5000, headers=JSON, status=400
    ),
    # Scheme timers are ISO 8601 durations of weeks, days, hours, minutes, seconds.
    "timer in words": Bad(
        "POST",
        "/v1/schemes",
        with_timer("match_within", "3 weeks"),
        loc=("body", "timers", "match_within"),
    ),
    "timer of no length": Bad(
        "POST",
        "/v1/schemes",
        with_timer("match_within", "P"),
        loc=("body", "timers", "match_within"),
    ),
    "timer of zero days": Bad(
        "POST",
        "/v1/schemes",
        with_timer("match_within", "P0D"),
        loc=("body", "timers", "match_within"),
    ),
    "negative timer": Bad(
        "POST",
        "/v1/schemes",
        with_timer("match_within", "-P1D"),
        loc=("body", "timers", "match_within"),
    ),
    "timer in months": Bad(
        "POST",
        "/v1/schemes",
        with_timer("planned_duration", "P12M"),
        loc=("body", "timers", "planned_duration"),
    ),
    "timer in years": Bad(
        "POST",
        "/v1/schemes",
        with_timer("planned_duration", "P1Y"),
        loc=("body", "timers", "planned_duration"),
    ),
    "timer as a number": Bad(
        "POST",
        "/v1/schemes",
        with_timer("match_within", 28),
        loc=("body", "timers", "match_within"),
    ),
    "timer of a century and a day": Bad(
        "POST",
        "/v1/schemes",
        with_timer("planned_duration", "P36501D"),
        loc=("body", "timers", "planned_duration"),
    ),
    "timer past the end of time": Bad(
        "POST",
        "/v1/schemes",
        with_timer("planned_duration", "P99999999999D"),
        loc=("body", "timers", "planned_duration"),
    ),
    "changed timer in words": Bad(
        "PATCH",
        "/v1/schemes/{scheme}",
        {"timers": {"meeting_cadence": "monthly"}},
        loc=("body", "timers", "meeting_cadence"),
    ),
    # Queries.
    "page of zero": Bad("GET", "/v1/relationships?limit=0", loc=("query", "limit")),
    "page too long": Bad("GET", "/v1/relationships?limit=501", loc=("query", "limit")),
    "negative cursor": Bad("GET", "/v1/relationships?cursor=-1", loc=("query", "cursor")),
    "unknown state": Bad("GET", "/v1/relationships?state=happy", loc=("query", "state")),
    "stalled as a word": Bad("GET", "/v1/relationships?stalled=perhaps", loc=("query", "stalled")),
    "available as a word": Bad("GET", "/v1/mentors?available=perhaps", loc=("query", "available")),
    # Oversized bodies, announced and streamed, with and without Idempotency-Key.
    "oversized with Content-Length": Bad(
        "POST", "/v1/schemes", content=b" " * (LIMIT + 1), headers=JSON, status=413
    ),
    "oversized and chunked": Bad(
        "POST", "/v1/schemes", status=413, headers=JSON | {"x-chunked": "yes"}
    ),
    "oversized with a key": Bad(
        "POST",
        "/v1/schemes",
        content=b" " * (LIMIT + 1),
        headers=JSON | {"idempotency-key": "big-1"},
        status=413,
    ),
    "oversized, chunked, with a key": Bad(
        "POST",
        "/v1/schemes",
        status=413,
        headers=JSON | {"idempotency-key": "big-2", "x-chunked": "yes"},
    ),
    "Idempotency-Key too long": Bad(
        "POST",
        MATCHED + "/end",
        {"kind": "withdrawn"},
        headers={"idempotency-key": "k" * 201},
        loc=("header", "Idempotency-Key"),
    ),
}


@dataclass(frozen=True)
class Records:
    """Records for the cases to be wrong about: a scheme, people and relationships at
    each stage, and an id of nothing."""

    ids: dict[str, str]

    def fill(self, template: Any) -> Any:
        if isinstance(template, str):
            return template.format(**self.ids)
        if isinstance(template, dict):
            return {self.fill(key): self.fill(value) for key, value in template.items()}
        if isinstance(template, list):
            return [self.fill(value) for value in template]
        return template


@pytest.fixture(scope="module")
def records(api: Api) -> Records:
    scheme = api.scheme(survey=SURVEY)["id"]
    relationships = {}
    for stage in ("requested", "invited", "matched", "active"):
        mentor, mentee = api.mentor(scheme)["id"], api.mentee(scheme)["id"]
        relationship = api.request(scheme, mentee)["id"]
        relationships[stage] = relationship
        path = f"/v1/relationships/{relationship}"
        steps = [
            ("invite", {"mentor_id": mentor}, 200),
            ("respond", {"accept": True}, 200),
            ("meetings", MEETING | {"held_on": TODAY}, 201),
        ][: ("requested", "invited", "matched", "active").index(stage)]
        for command, body, status in steps:
            api.ok(api.admin.post(f"{path}/{command}", json=body), status)
    return Records(
        {
            "scheme": scheme,
            "other_scheme": api.scheme(name="Another scheme")["id"],
            "mentor": api.mentor(scheme)["id"],
            "mentee": api.mentee(scheme)["id"],
            "missing": str(uuid.uuid4()),
            "today": TODAY,
            "tomorrow": TOMORROW,
            "yesterday": YESTERDAY,
            "eleven_years": ELEVEN_YEARS,
            "six_years": SIX_YEARS,
            **relationships,
        }
    )


def streamed(size: int) -> Iterator[bytes]:
    """A body sent chunked, without a Content-Length."""
    for _ in range(size // 1000 + 1):
        yield b" " * 1000


def send(api: Api, bad: Bad, records: Records) -> httpx.Response:
    headers = {k: v for k, v in bad.headers.items() if k != "x-chunked"}
    content: bytes | Iterator[bytes] | None = bad.content
    if "x-chunked" in bad.headers:
        content = streamed(2 * LIMIT)
    path = records.fill(bad.path)
    if content is not None:
        return api.admin.request(bad.method, path, content=content, headers=headers)
    return api.admin.request(bad.method, path, json=records.fill(bad.json), headers=headers)


def assert_problem(response: httpx.Response, status: int, loc: tuple[str | int, ...]) -> None:
    """A problem+json answer with this status; for invalid input, where it was wrong."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem.keys() >= PROBLEM_FIELDS, problem
    assert problem["status"] == status
    assert problem["type"].startswith("/problems/") and problem["title"] and problem["detail"]
    if status == 422:
        errors = problem["errors"]
        assert errors and all(isinstance(e["loc"], list) and e["msg"] for e in errors)
        located = [tuple(e["loc"][: len(loc)]) for e in errors]
        assert loc in located, errors


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_request_is_a_problem_and_changes_nothing(
    api: Api, records: Records, name: str
) -> None:
    bad = CASES[name]
    before = (api.count_events(), api.runtime.tokens.count())
    response = send(api, bad, records)
    assert_problem(response, bad.status, bad.loc)
    assert (api.count_events(), api.runtime.tokens.count()) == before


def test_an_oversized_request_does_not_use_up_its_key(api: Api, records: Records) -> None:
    headers = JSON | {"idempotency-key": "big-then-small"}
    too_big = api.admin.post("/v1/schemes", content=b" " * (LIMIT + 1), headers=headers)
    assert too_big.status_code == 413
    created = api.admin.post("/v1/schemes", json=SCHEME, headers=headers)
    assert created.status_code == 201, created.text


def test_a_repeated_command_with_its_key_is_answered_again_and_changes_nothing(
    api: Api, records: Records
) -> None:
    path = records.fill(MATCHED + "/agreement")
    headers = {"Idempotency-Key": f"agreement-{uuid.uuid4()}"}
    first = api.admin.post(path, json=AGREEMENT, headers=headers)
    assert first.status_code == 200, first.text
    assert "idempotency-replayed" not in first.headers
    events = api.count_events()

    again = api.admin.post(path, json=AGREEMENT, headers=headers)
    assert again.status_code == 200
    assert again.headers["idempotency-replayed"] == "true"
    assert again.content == first.content
    assert api.count_events() == events

    changed = api.admin.post(
        path, json=AGREEMENT | {"meeting_frequency": "weekly"}, headers=headers
    )
    assert_problem(changed, 422, ("header", "Idempotency-Key"))
    elsewhere = api.admin.post(records.fill(MATCHED + "/end"), json=AGREEMENT, headers=headers)
    assert_problem(elsewhere, 422, ("header", "Idempotency-Key"))
    assert api.count_events() == events


def test_a_refusal_is_replayed_too(api: Api, records: Records) -> None:
    path = records.fill("/v1/relationships/{requested}/resume")
    headers = {"Idempotency-Key": f"resume-{uuid.uuid4()}"}
    first = api.admin.post(path, headers=headers)
    assert_problem(first, 409, ())
    again = api.admin.post(path, headers=headers)
    assert again.headers["idempotency-replayed"] == "true"
    assert (again.status_code, again.content) == (409, first.content)


def test_a_key_belongs_to_the_caller_who_used_it(api: Api, records: Records) -> None:
    """Another caller's request with the same key is their own, not a replay of the
    first caller's answer (which could hold personal data)."""
    key = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
    mentor = api.admin.post("/v1/mentors", json=records.fill(MENTOR), headers=key)
    assert mentor.status_code == 201, mentor.text
    coordinator = api.as_(api.token("coordinator", scheme_ids=[records.ids["scheme"]]))
    mentee = coordinator.post("/v1/mentees", json=records.fill(MENTEE), headers=key)
    assert mentee.status_code == 201, mentee.text
    assert "idempotency-replayed" not in mentee.headers
    assert mentee.json()["id"] != mentor.json()["id"]


def test_the_extension_to_the_end_of_time_is_refused_saying_why(api: Api, records: Records) -> None:
    before = api.count_events()
    response = api.admin.post(
        records.fill("/v1/relationships/{active}/extend"),
        json={"until": "9999-12-31T23:59:59-14:00"},
    )
    assert_problem(response, 422, ("body",))
    assert "more than ten years after the first meeting" in response.json()["detail"]
    assert api.count_events() == before
