"""Who may call what: every endpoint x every kind of caller, on their own record and
on someone else's, over a real socket.

The policy (services/access.py): no token or an unknown one is 401; a role that may
never do a thing is 403; a role that may, but not on this record, is 404, so that
nobody learns that another mentee's relationship exists. Coordinators work on their
own schemes, reporters see nothing personal, auditors read but never write.

Each case gets records in the state its command needs ("stage"): a case expected to
change something gets fresh records, a refused case shares records with the other
refusals of its stage, since a refusal changes nothing (which every case checks).
"""

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.api.app import create_app
from tests.e2e.client import ADMIN_TOKEN, TODAY, Api

LATER = (datetime.now(UTC) + timedelta(days=3 * 365)).date().isoformat()
PROBLEM_FIELDS = {"type", "title", "status", "detail"}

# The callers, each acting on the records of a case: "mentor" and "mentee" are the
# pair in the case's relationship (or the people of the case where there is none),
# "other_mentor" and "other_mentee" are people of the same scheme who are not,
# "coordinator_elsewhere" coordinates another scheme.
CALLERS = (
    "admin",
    "coordinator",
    "coordinator_elsewhere",
    "mentor",
    "other_mentor",
    "mentee",
    "other_mentee",
    "reporter",
    "auditor",
    "anonymous",
    "bad_token",
)


@dataclass(frozen=True)
class Endpoint:
    """A call, and the stage its records must be at for it to succeed.

    `{scheme}`, `{mentor}`, `{mentee}`, `{relationship}`, `{token}` (the id of a
    token issued for the case), `{staff}` (a staff account added for the case),
    `{today}` and `{later}` in the path and body stand for the case's records and
    dates. Stages: `people` (a mentor and a mentee, no relationship), `requested`,
    `invited`, `matched`, `paused` (matched, then paused), `active` (matched, then
    met) and `ended`.
    """

    method: str
    path: str
    stage: str = "people"
    body: dict[str, Any] | None = None
    scheme: str = "assigned"
    csv: str | None = None  # a text/csv body instead of `body`


RELATIONSHIP = "/v1/relationships/{relationship}"
MENTOR = {
    "scheme_id": "{scheme}",
    "name": "Dr Priya Nair",
    "email": "priya.nair@example.nhs.uk",
    "grade": "consultant",
    "specialty": "renal medicine",
    "institution": "Western General",
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

ENDPOINTS: dict[str, Endpoint] = {
    "health": Endpoint("GET", "/healthz"),
    "readiness": Endpoint("GET", "/readyz"),
    "metrics": Endpoint("GET", "/metrics"),
    "issue a token": Endpoint("POST", "/v1/tokens", body={"role": "reporter", "label": "board"}),
    "list tokens": Endpoint("GET", "/v1/tokens"),
    "revoke a token": Endpoint("DELETE", "/v1/tokens/{token}"),
    "add a staff account": Endpoint(
        "POST",
        "/v1/staff",
        body={"name": "Dr Sam Board", "email": "sam@example.org", "role": "reporter"},
    ),
    "list staff accounts": Endpoint("GET", "/v1/staff"),
    "change a staff account": Endpoint("PATCH", "/v1/staff/{staff}", body={"role": "auditor"}),
    "create a scheme": Endpoint(
        "POST", "/v1/schemes", body={"name": "Foundation", "matching_model": "hybrid"}
    ),
    "read a scheme": Endpoint("GET", "/v1/schemes/{scheme}"),
    "change a scheme": Endpoint("PATCH", "/v1/schemes/{scheme}", body={"name": "Renamed"}),
    "assign a scheme role": Endpoint(
        "POST",
        "/v1/schemes/{scheme}/roles",
        body={"role": "lead", "person": "Dr Jane Lead", "from": "{today}"},
    ),
    "register a mentor": Endpoint("POST", "/v1/mentors", body=MENTOR),
    "change a mentor's capacity": Endpoint("PATCH", "/v1/mentors/{mentor}", body={"capacity": 3}),
    "record a mentor's training": Endpoint(
        "PATCH", "/v1/mentors/{mentor}", body={"trained_on": "{today}"}
    ),
    "browse the mentor directory": Endpoint("GET", "/v1/mentors?scheme_id={scheme}"),
    "read a mentor": Endpoint("GET", "/v1/mentors/{mentor}"),
    "register a mentee": Endpoint("POST", "/v1/mentees", body=MENTEE),
    "import mentors from CSV": Endpoint(
        "POST",
        "/v1/schemes/{scheme}/import?kind=mentors",
        csv="name,email,grade,specialty,institution\nDr Ida,{mentor}@example.nhs.uk,GP,GP,York\n",
    ),
    "read a mentee": Endpoint("GET", "/v1/mentees/{mentee}", "matched"),
    "erase a person": Endpoint("POST", "/v1/people/{mentee}/erase", body={"reason": "SR-1"}),
    "request a mentor": Endpoint(
        "POST", "/v1/relationships", body={"scheme_id": "{scheme}", "mentee_id": "{mentee}"}
    ),
    "list relationships": Endpoint("GET", "/v1/relationships", "matched"),
    "read a relationship": Endpoint("GET", RELATIONSHIP, "matched"),
    "read a relationship as of": Endpoint("GET", RELATIONSHIP + "?as_of={later}T00:00Z", "matched"),
    "read the history": Endpoint("GET", RELATIONSHIP + "/events", "matched"),
    "invite (assigned)": Endpoint(
        "POST", RELATIONSHIP + "/invite", "requested", {"mentor_id": "{mentor}"}
    ),
    "invite (mentee choice)": Endpoint(
        "POST", RELATIONSHIP + "/invite", "requested", {"mentor_id": "{mentor}"}, "mentee_choice"
    ),
    "respond": Endpoint("POST", RELATIONSHIP + "/respond", "invited", {"accept": True}),
    "log a meeting": Endpoint(
        "POST",
        RELATIONSHIP + "/meetings",
        "matched",
        {"held_on": "{today}", "mode": "phone", "duration_minutes": 45},
    ),
    "record the agreement": Endpoint(
        "POST",
        RELATIONSHIP + "/agreement",
        "matched",
        {
            "meeting_frequency": "monthly",
            "ground_rules_agreed": True,
            "confidentiality_agreed": True,
        },
    ),
    "pause": Endpoint("POST", RELATIONSHIP + "/pause", "matched", {"reason_category": "sickness"}),
    "resume": Endpoint("POST", RELATIONSHIP + "/resume", "paused"),
    "extend": Endpoint("POST", RELATIONSHIP + "/extend", "active", {"until": "{later}"}),
    "end": Endpoint("POST", RELATIONSHIP + "/end", "matched", {"kind": "no_blame"}),
    "rematch": Endpoint("POST", RELATIONSHIP + "/rematch", "ended"),
    "feedback as the mentee": Endpoint(
        "POST",
        RELATIONSHIP + "/feedback",
        "matched",
        {"stage": "baseline", "respondent": "mentee", "answers": {"hopeful": 4}},
    ),
    "feedback as the mentor": Endpoint(
        "POST",
        RELATIONSHIP + "/feedback",
        "matched",
        {"stage": "baseline", "respondent": "mentor", "answers": {"ready": True}},
    ),
    "report stalled pairs": Endpoint("GET", "/v1/reports/stalled?scheme_id={scheme}"),
    "report the evaluation": Endpoint("GET", "/v1/reports/evaluation?scheme_id={scheme}"),
    "report mentor load": Endpoint("GET", "/v1/reports/mentor-load?scheme_id={scheme}"),
    "report equity": Endpoint("GET", "/v1/reports/equity?scheme_id={scheme}"),
    "report counts": Endpoint("GET", "/v1/reports/counts?scheme_id={scheme}"),
    "read the audit trail": Endpoint("GET", "/v1/reports/audit"),
    "verify the audit trail": Endpoint("GET", "/v1/reports/audit/verify"),
    "read the access log": Endpoint("GET", "/v1/reports/access-log"),
    "turn a mentee's reminders off": Endpoint(
        "PATCH", "/v1/mentees/{mentee}", body={"reminders": False}
    ),
    "read the delivery log": Endpoint("GET", "/v1/notifications?scheme_id={scheme}"),
    "open a survey round": Endpoint(
        "POST",
        "/v1/schemes/{scheme}/survey-rounds",
        body={
            "name": "Baseline",
            "stage": "baseline",
            "audience": "both",
            "opens_on": "{today}",
            "closes_on": "{today}",
        },
    ),
    "read a survey round": Endpoint("GET", "/v1/survey-rounds/{round}"),
    "answer a survey round as the mentee": Endpoint(
        "POST", "/v1/survey-rounds/{round}/responses", body={"answers": {"hopeful": 4}}
    ),
    "answer a survey round as the mentor": Endpoint(
        "POST", "/v1/survey-rounds/{round}/responses", body={"answers": {"ready": True}}
    ),
    "export a mentee's data": Endpoint("GET", "/v1/people/{mentee}/export", "matched"),
    "export a mentor's data": Endpoint("GET", "/v1/people/{mentor}/export", "matched"),
    "record a mentor leaving": Endpoint("POST", "/v1/mentors/{mentor}/leave", "matched"),
    "record a mentee leaving": Endpoint("POST", "/v1/mentees/{mentee}/leave", "matched"),
    # Last: a cohort run invites every request of the scheme, shared records too.
    "list candidates": Endpoint("GET", RELATIONSHIP + "/candidates", "requested"),
    "match a cohort": Endpoint(
        "POST", "/v1/schemes/{scheme}/match-cohort", "requested", {"dry_run": False}
    ),
}

# The policy. Columns in the order of CALLERS: admin, coordinator of this scheme,
# coordinator of another, the mentor of the record, another mentor, the mentee of the
# record, another mentee, reporter, auditor, no token, an unknown token.
# fmt: off
EXPECTED: dict[str, tuple[int, ...]] = {
    #                               adm  crd  crd' mtr  mtr' mte  mte' rep  aud  none bad
    "health":                      (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "readiness":                   (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "metrics":                     (200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "issue a token":               (201, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "list tokens":                 (200, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "revoke a token":              (204, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "add a staff account":         (201, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "list staff accounts":         (200, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "change a staff account":      (200, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "create a scheme":             (201, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "read a scheme":               (200, 200, 404, 200, 200, 200, 200, 200, 200, 401, 401),
    "change a scheme":             (200, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "assign a scheme role":        (201, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "register a mentor":           (201, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "change a mentor's capacity":  (200, 200, 404, 200, 404, 403, 403, 403, 403, 401, 401),
    "record a mentor's training":  (200, 200, 404, 403, 403, 403, 403, 403, 403, 401, 401),
    "browse the mentor directory": (200, 200, 200, 200, 200, 200, 200, 403, 200, 401, 401),
    "read a mentor":               (200, 200, 404, 200, 200, 200, 200, 403, 200, 401, 401),
    "register a mentee":           (201, 201, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "import mentors from CSV":     (200, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "read a mentee":               (200, 200, 404, 200, 404, 200, 404, 403, 200, 401, 401),
    "erase a person":              (200, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "request a mentor":            (201, 201, 403, 403, 403, 201, 403, 403, 403, 401, 401),
    "list relationships":          (200, 200, 200, 200, 200, 200, 200, 403, 200, 401, 401),
    "read a relationship":         (200, 200, 404, 200, 404, 200, 404, 403, 200, 401, 401),
    "read a relationship as of":   (200, 200, 404, 200, 404, 200, 404, 403, 200, 401, 401),
    "read the history":            (200, 200, 404, 200, 404, 200, 404, 403, 200, 401, 401),
    "invite (assigned)":           (200, 200, 404, 403, 403, 403, 404, 403, 403, 401, 401),
    "invite (mentee choice)":      (200, 200, 404, 403, 403, 200, 404, 403, 403, 401, 401),
    "respond":                     (200, 200, 404, 200, 404, 403, 403, 403, 403, 401, 401),
    "log a meeting":               (201, 201, 404, 201, 404, 201, 404, 403, 403, 401, 401),
    "record the agreement":        (200, 200, 404, 200, 404, 200, 404, 403, 403, 401, 401),
    "pause":                       (200, 200, 404, 200, 404, 200, 404, 403, 403, 401, 401),
    "resume":                      (200, 200, 404, 200, 404, 200, 404, 403, 403, 401, 401),
    "extend":                      (200, 200, 404, 200, 404, 200, 404, 403, 403, 401, 401),
    "end":                         (200, 200, 404, 200, 404, 200, 404, 403, 403, 401, 401),
    "rematch":                     (201, 201, 404, 403, 403, 403, 403, 403, 403, 401, 401),
    "feedback as the mentee":      (201, 201, 404, 403, 404, 201, 404, 403, 403, 401, 401),
    "feedback as the mentor":      (201, 201, 404, 201, 404, 403, 404, 403, 403, 401, 401),
    "report stalled pairs":        (200, 200, 404, 403, 403, 403, 403, 403, 200, 401, 401),
    "report the evaluation":       (200, 200, 404, 403, 403, 403, 403, 200, 200, 401, 401),
    "report mentor load":          (200, 200, 404, 403, 403, 403, 403, 403, 200, 401, 401),
    "report equity":               (200, 200, 404, 403, 403, 403, 403, 200, 200, 401, 401),
    "report counts":               (200, 200, 404, 403, 403, 403, 403, 200, 200, 401, 401),
    "read the audit trail":        (200, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401),
    "verify the audit trail":      (200, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401),
    "read the access log":         (403, 403, 403, 403, 403, 403, 403, 403, 200, 401, 401),
    "turn a mentee's reminders off": (200, 200, 404, 403, 403, 200, 404, 403, 403, 401, 401),
    "read the delivery log":       (200, 200, 404, 403, 403, 403, 403, 403, 403, 401, 401),
    # A round of the whole scheme asks the other mentor and mentee too.
    "open a survey round":         (201, 201, 404, 403, 403, 403, 403, 403, 403, 401, 401),
    "read a survey round":         (200, 200, 404, 403, 403, 403, 403, 200, 200, 401, 401),
    "answer a survey round as the mentee":
                                   (403, 403, 403, 422, 422, 201, 201, 403, 403, 401, 401),
    "answer a survey round as the mentor":
                                   (403, 403, 403, 201, 201, 422, 422, 403, 403, 401, 401),
    "export a mentee's data":      (200, 403, 403, 404, 404, 200, 404, 403, 403, 401, 401),
    "export a mentor's data":      (200, 403, 403, 200, 404, 404, 404, 403, 403, 401, 401),
    "record a mentor leaving":     (200, 200, 404, 403, 403, 403, 403, 403, 403, 401, 401),
    "record a mentee leaving":     (200, 200, 404, 403, 403, 403, 403, 403, 403, 401, 401),
    "list candidates":             (200, 200, 404, 403, 403, 200, 404, 403, 403, 401, 401),
    "match a cohort":              (200, 200, 404, 403, 403, 403, 403, 403, 403, 401, 401),
}
# fmt: on

SURVEY = [
    {
        "id": "hopeful",
        "text": "How hopeful are you about mentoring?",
        "kind": "likert5",
        "audience": "mentee",
        "stages": ["baseline"],
    },
    {
        "id": "ready",
        "text": "Do you feel ready to mentor?",
        "kind": "yes_no",
        "audience": "mentor",
        "stages": ["baseline"],
    },
]


@dataclass(frozen=True)
class Records:
    """The scheme, pair and relationship of one case, the pair's tokens, the id
    of a token issued for nobody in particular, and of a staff account."""

    scheme: str
    mentor: str
    mentee: str
    relationship: str
    mentor_token: str
    mentee_token: str
    token: str
    staff: str
    round: str

    def fill(self, template: Any) -> Any:
        """The template with the placeholders of Endpoint replaced."""
        if isinstance(template, str):
            return template.format(
                scheme=self.scheme,
                mentor=self.mentor,
                mentee=self.mentee,
                relationship=self.relationship,
                token=self.token,
                staff=self.staff,
                round=self.round,
                today=TODAY,
                later=LATER,
            )
        if isinstance(template, dict):
            return {key: self.fill(value) for key, value in template.items()}
        return template


class Cast:
    """Two schemes of a deanery (one where coordinators assign mentors, one where
    mentees choose) and a third elsewhere; callers with their tokens; and records at
    any stage on demand."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.schemes = {
            "assigned": api.scheme(survey=SURVEY)["id"],
            "mentee_choice": api.scheme(matching_model="mentee_choice", survey=SURVEY)["id"],
        }
        elsewhere = api.scheme(name="Another deanery's scheme")["id"]
        home = self.schemes["assigned"]
        other_mentor = api.mentor(home, name="Dr Other Mentor", email="other.mentor@example.org")
        other_mentee = api.mentee(home, name="Dr Other Mentee", email="other.mentee@example.org")
        self.tokens = {
            "admin": ADMIN_TOKEN,
            "coordinator": api.token("coordinator", scheme_ids=list(self.schemes.values())),
            "coordinator_elsewhere": api.token("coordinator", scheme_ids=[elsewhere]),
            "other_mentor": api.token("mentor", subject_id=other_mentor["id"]),
            "other_mentee": api.token("mentee", subject_id=other_mentee["id"]),
            "reporter": api.token("reporter"),
            "auditor": api.token("auditor"),
            "bad_token": "mtk_this-token-was-never-issued",
        }
        self.anonymous = httpx.Client(base_url=api.base_url, timeout=30)
        self._shared: dict[tuple[str, str], Records] = {}

    def records(self, stage: str, scheme: str = "assigned", fresh: bool = False) -> Records:
        """Records at this stage: new ones if `fresh`, else those shared by the stage."""
        if fresh:
            return self._create(stage, scheme)
        if (stage, scheme) not in self._shared:
            self._shared[stage, scheme] = self._create(stage, scheme)
        return self._shared[stage, scheme]

    def forget(self, stage: str, scheme: str) -> None:
        """Shared records that a request changed are no longer at their stage."""
        self._shared.pop((stage, scheme), None)

    def client(self, caller: str, records: Records) -> httpx.Client:
        if caller == "anonymous":
            return self.anonymous
        if caller == "mentor":
            return self.api.as_(records.mentor_token)
        if caller == "mentee":
            return self.api.as_(records.mentee_token)
        return self.api.as_(self.tokens[caller])

    def _create(self, stage: str, scheme: str) -> Records:
        api, scheme_id = self.api, self.schemes[scheme]
        mentor, mentee = api.mentor(scheme_id)["id"], api.mentee(scheme_id)["id"]
        relationship = ""
        if stage != "people":
            relationship = api.request(scheme_id, mentee)["id"]
            self._advance(f"/v1/relationships/{relationship}", stage, mentor)
        return Records(
            scheme=scheme_id,
            mentor=mentor,
            mentee=mentee,
            relationship=relationship,
            mentor_token=api.token("mentor", subject_id=mentor),
            mentee_token=api.token("mentee", subject_id=mentee),
            token=api.ok(
                api.admin.post("/v1/tokens", json={"role": "reporter", "label": "e2e spare"}),
                201,
            )["id"],
            staff=str(
                api.runtime.staff.add("Dr Staff", f"{uuid.uuid4()}@example.org", "reporter").id
            ),
            round=self._survey_round(scheme_id),
        )

    def _survey_round(self, scheme_id: str) -> str:
        """A baseline survey round of the whole scheme, open today."""
        body = {
            "name": "Baseline",
            "stage": "baseline",
            "audience": "both",
            "opens_on": TODAY,
            "closes_on": TODAY,
        }
        path = f"/v1/schemes/{scheme_id}/survey-rounds"
        return str(self.api.ok(self.api.admin.post(path, json=body), 201)["id"])

    def _advance(self, path: str, stage: str, mentor: str) -> None:
        """Take a requested relationship on to the stage, as the admin."""
        steps: list[tuple[str, dict[str, Any] | None]] = [("invite", {"mentor_id": mentor})]
        if stage != "invited":
            steps.append(("respond", {"accept": True}))
        if stage == "paused":
            steps.append(("pause", {"reason_category": "parental_leave"}))
        if stage == "active":
            steps.append(("meetings", {"held_on": TODAY, "mode": "video", "duration_minutes": 30}))
        if stage == "ended":
            steps.append(("end", {"kind": "withdrawn"}))
        if stage == "requested":
            steps = []
        for command, body in steps:
            response = self.api.admin.post(f"{path}/{command}", json=body)
            assert response.is_success, response.text


@pytest.fixture(scope="module")
def cast(api: Api) -> Iterator[Cast]:
    cast = Cast(api)
    yield cast
    cast.anonymous.close()


def staff_of(api: Api) -> list[tuple[object, ...]]:
    """The staff accounts, as far as a request could change them."""
    return [(a.id, a.role, a.scheme_ids, a.active) for a in api.runtime.staff.accounts()]


def assert_problem(response: httpx.Response, status: int) -> None:
    """An error as application/problem+json whose status matches the response's."""
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem.keys() >= PROBLEM_FIELDS, problem
    assert problem["status"] == status


CASES = [
    pytest.param(name, caller, status, id=f"{name} | {caller}")
    for name, statuses in EXPECTED.items()
    for caller, status in zip(CALLERS, statuses, strict=True)
]


def _route(method: str, path: str) -> tuple[str, str]:
    """A method and path with its query left out and its parameters unnamed."""
    return method, re.sub(r"\{[^}]*\}", "{}", path.partition("?")[0])


def test_the_matrix_covers_every_endpoint_and_every_caller(api: Api) -> None:
    """A new endpoint needs a row here: its policy written out and tested."""
    assert EXPECTED.keys() == ENDPOINTS.keys()
    assert all(len(statuses) == len(CALLERS) for statuses in EXPECTED.values())
    served = {
        _route(method.upper(), path)
        for path, operations in create_app(api.runtime).openapi()["paths"].items()
        for method in operations
    }
    assert served == {_route(e.method, e.path) for e in ENDPOINTS.values()}


@pytest.mark.parametrize(("name", "caller", "expected"), CASES)
def test_who_may_call_what(cast: Cast, name: str, caller: str, expected: int) -> None:
    endpoint = ENDPOINTS[name]
    changes_something = endpoint.method != "GET" and expected < 300
    records = cast.records(endpoint.stage, endpoint.scheme, fresh=changes_something)
    api = cast.api
    events, tokens, staff = api.count_events(), api.runtime.tokens.count(), staff_of(api)

    body: dict[str, Any] = {"json": records.fill(endpoint.body)}
    if endpoint.csv is not None:
        body = {"content": records.fill(endpoint.csv), "headers": {"Content-Type": "text/csv"}}
    response = cast.client(caller, records).request(
        endpoint.method, records.fill(endpoint.path), **body
    )
    if response.is_success and not changes_something and endpoint.method != "GET":
        cast.forget(endpoint.stage, endpoint.scheme)

    assert response.status_code == expected, response.text
    after = (api.count_events(), api.runtime.tokens.count(), staff_of(api))
    if expected >= 400:
        assert_problem(response, expected)
        assert after == (events, tokens, staff), "a refused request changed something"
    elif name == "issue a token":
        assert after == (events, tokens + 1, staff)
    elif name in ("add a staff account", "change a staff account"):
        assert after[:2] == (events, tokens) and after[2] != staff
    elif name == "revoke a token":
        assert after == (events, tokens, staff)
        (revoked,) = [t for t in api.runtime.tokens.tokens() if str(t.id) == records.token]
        assert revoked.status == "revoked"
    elif changes_something:
        assert after[0] > events
    else:
        assert after == (events, tokens, staff), "a read changed something"
    if expected == 401:
        assert response.headers["www-authenticate"] == "Bearer"


# What each caller sees of what they may read -------------------------------------


def test_mentees_and_mentors_browse_the_directory_without_contact_details(cast: Cast) -> None:
    records = cast.records("people")
    path = f"/v1/mentors?scheme_id={records.scheme}"
    for caller in ("mentee", "other_mentee", "mentor", "other_mentor"):
        directory = cast.api.ok_list(cast.client(caller, records).get(path))
        assert records.mentor in {m["id"] for m in directory}
        for mentor in directory:
            assert {"email", "capacity", "load"}.isdisjoint(mentor), (caller, mentor)
            assert {"name", "specialty", "has_room"} <= mentor.keys()
    for caller in ("admin", "coordinator", "auditor"):
        directory = cast.api.ok_list(cast.client(caller, records).get(path))
        assert all("@" in mentor["email"] for mentor in directory)


def test_the_directory_of_a_mentee_or_coordinator_is_their_own_schemes(cast: Cast) -> None:
    records = cast.records("people")
    elsewhere = cast.api.ok_list(cast.client("coordinator_elsewhere", records).get("/v1/mentors"))
    assert records.mentor not in {m["id"] for m in elsewhere}
    choice = cast.records("people", "mentee_choice")
    directory = cast.api.ok_list(cast.client("mentee", records).get("/v1/mentors"))
    seen = {m["id"] for m in directory}
    assert records.mentor in seen and choice.mentor not in seen
    assert {m["scheme_id"] for m in directory} == {records.scheme}


def test_a_mentors_email_shows_to_themselves_and_staff_only(cast: Cast) -> None:
    records = cast.records("people")
    path = f"/v1/mentors/{records.mentor}"
    for caller, sees_email in (
        ("mentor", True),
        ("admin", True),
        ("coordinator", True),
        ("auditor", True),
        ("other_mentor", False),
        ("mentee", False),
        ("other_mentee", False),
    ):
        mentor = cast.api.ok(cast.client(caller, records).get(path))
        assert ("email" in mentor) is sees_email, caller


def test_demographics_show_to_admins_auditors_and_the_mentee_only(cast: Cast) -> None:
    api = cast.api
    scheme = cast.schemes["assigned"]
    mentee = api.mentee(scheme, demographics={"ethnicity": "prefer_not_to_say", "sex": "female"})
    mentor = api.mentor(scheme)
    relationship = api.request(scheme, mentee["id"])["id"]
    api.ok(
        api.admin.post(f"/v1/relationships/{relationship}/invite", json={"mentor_id": mentor["id"]})
    )
    api.ok(api.admin.post(f"/v1/relationships/{relationship}/respond", json={"accept": True}))
    as_mentee = api.as_(api.token("mentee", subject_id=mentee["id"]))
    as_mentor = api.as_(api.token("mentor", subject_id=mentor["id"]))
    path = f"/v1/mentees/{mentee['id']}"
    for client in (api.admin, api.as_(cast.tokens["auditor"]), as_mentee):
        assert api.ok(client.get(path))["demographics"] == {
            "ethnicity": "prefer_not_to_say",
            "sex": "female",
        }
    for client in (api.as_(cast.tokens["coordinator"]), as_mentor):
        seen = api.ok(client.get(path))
        assert seen["id"] == mentee["id"] and "demographics" not in seen


def test_who_ended_a_pairing_without_blame_and_why_show_to_auditors_only(cast: Cast) -> None:
    records = cast.records("matched", fresh=True)
    path = f"/v1/relationships/{records.relationship}"
    mentee = cast.client("mentee", records)
    cast.api.ok(mentee.post(f"{path}/end", json={"kind": "no_blame", "reason_category": "clash"}))
    for caller in ("admin", "coordinator", "mentor", "mentee"):
        history = cast.api.ok_list(cast.client(caller, records).get(f"{path}/events"))
        ended = history[-1]
        assert (ended["type"], ended["sealed"], ended["actor"]) == ("Ended", True, None), caller
        assert ended["details"] == {"kind": "no_blame"}, caller
    ended = cast.api.ok_list(cast.client("auditor", records).get(f"{path}/events"))[-1]
    assert ended["sealed"] is False
    assert ended["actor"] == {"role": "mentee", "id": records.mentee}
    assert ended["details"]["reason_category"] == "clash"


def test_lists_hold_only_the_relationships_a_caller_may_read(cast: Cast) -> None:
    records = cast.records("matched")
    for caller, sees in (
        ("admin", True),
        ("coordinator", True),
        ("auditor", True),
        ("mentor", True),
        ("mentee", True),
        ("coordinator_elsewhere", False),
        ("other_mentor", False),
        ("other_mentee", False),
    ):
        client = cast.client(caller, records)
        page = cast.api.ok(client.get("/v1/relationships", params={"limit": 500}))
        assert (records.relationship in {r["id"] for r in page["items"]}) is sees, caller
        # Asking for the record by its mentee's id does not reveal it either.
        page = cast.api.ok(client.get("/v1/relationships", params={"mentee_id": records.mentee}))
        assert bool(page["items"]) is sees, caller


def test_mentors_and_mentees_read_only_their_own_schemes_settings(cast: Cast) -> None:
    api = cast.api
    elsewhere = api.scheme(name="A scheme of another trust")["id"]
    home = cast.schemes["assigned"]
    for caller in ("other_mentor", "other_mentee"):
        client = api.as_(cast.tokens[caller])
        assert api.ok(client.get(f"/v1/schemes/{home}"))["id"] == home
        refused = client.get(f"/v1/schemes/{elsewhere}")
        assert refused.status_code == 404, caller


def test_a_coordinator_registering_a_mentee_is_not_shown_their_demographics(cast: Cast) -> None:
    api = cast.api
    coordinator = api.as_(cast.tokens["coordinator"])
    body = {
        "scheme_id": cast.schemes["assigned"],
        "cohort": "2026",
        "name": "Dr Private",
        "email": "private@example.org",
        "grade": "FY2",
        "specialty": "surgery",
        "specialty_decided": False,
        "institution": "C",
        "demographics": {"sex": "male"},
    }
    created = api.ok(coordinator.post("/v1/mentees", json=body), 201)
    assert "demographics" not in created
    assert api.ok(api.admin.get(f"/v1/mentees/{created['id']}"))["demographics"] == {"sex": "male"}


def test_preferred_mentors_must_be_mentors_of_the_scheme(cast: Cast) -> None:
    api = cast.api
    scheme = cast.schemes["assigned"]
    elsewhere_mentor = api.mentor(cast.schemes["mentee_choice"])["id"]
    mentee = api.mentee(scheme)["id"]
    before = api.count_events()
    for preferred in (elsewhere_mentor, mentee):
        refused = api.admin.post(
            "/v1/relationships",
            json={"scheme_id": scheme, "mentee_id": mentee, "preferred_mentor_ids": [preferred]},
        )
        assert refused.status_code == 422, refused.text
    assert api.count_events() == before
