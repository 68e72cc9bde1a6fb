"""A small client for scenario tests: people and pairs created over HTTP."""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from services.runtime import Runtime

ADMIN_TOKEN = "e2e-admin-token"
TODAY = datetime.now(UTC).date().isoformat()


@dataclass
class Api:
    base_url: str
    runtime: Runtime
    _clients: dict[str, httpx.Client] = field(default_factory=dict)

    def as_(self, token: str) -> httpx.Client:
        """An HTTP client that sends this bearer token."""
        if token not in self._clients:
            self._clients[token] = httpx.Client(
                base_url=self.base_url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        return self._clients[token]

    @property
    def admin(self) -> httpx.Client:
        return self.as_(ADMIN_TOKEN)

    def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    def report(self, path: str, within: float = 60.0, **params: Any) -> dict[str, Any]:
        """A report read by the admin once the reports have caught up: a 503 (the
        projections behind, as on a busy machine) is asked again after its Retry-After,
        for up to `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            response = self.admin.get(path, params=params)
            if response.status_code != 503 or time.monotonic() > deadline:
                return self.ok(response)
            time.sleep(min(float(response.headers.get("Retry-After", "1")), 1.0))

    def ok_list(self, response: httpx.Response, status: int = 200) -> list[dict[str, Any]]:
        assert response.status_code == status, response.text
        body: list[dict[str, Any]] = response.json()
        return body

    def token(
        self, role: str, subject_id: str | None = None, scheme_ids: list[str] | None = None
    ) -> str:
        body: dict[str, Any] = {"role": role, "label": f"e2e {role}"}
        if subject_id:
            body["subject_id"] = subject_id
        if scheme_ids:
            body["scheme_ids"] = scheme_ids
        return str(self.ok(self.admin.post("/v1/tokens", json=body), 201)["token"])

    def scheme(self, **settings: Any) -> dict[str, Any]:
        body = {
            "name": "Scenario scheme",
            "matching_model": "assigned",
            "require_mentor_acceptance": True,
            "require_mentor_training": False,
            "cohorts": [{"name": "2026", "eligible_count": 10}],
            "survey": [
                {
                    "id": "satisfied",
                    "text": "Overall, satisfied?",
                    "kind": "likert5",
                    "audience": "mentee",
                    "stages": ["midpoint", "end"],
                },
                {
                    "id": "worthwhile",
                    "text": "Worthwhile?",
                    "kind": "yes_no",
                    "audience": "mentor",
                    "stages": ["end"],
                },
            ],
        } | settings
        return self.ok(self.admin.post("/v1/schemes", json=body), 201)

    def mentor(self, scheme_id: str, **profile: Any) -> dict[str, Any]:
        body = {
            "scheme_id": scheme_id,
            "name": "Dr Asha Rao",
            "email": "asha.rao@example.nhs.uk",
            "grade": "consultant",
            "specialty": "cardiology",
            "institution": "St Elsewhere",
            "interests": ["research"],
            "capacity": 2,
        } | profile
        return self.ok(self.admin.post("/v1/mentors", json=body), 201)

    def mentee(self, scheme_id: str, **profile: Any) -> dict[str, Any]:
        body = {
            "scheme_id": scheme_id,
            "cohort": "2026",
            "name": "Dr Ben Okafor",
            "email": "ben.okafor@example.nhs.uk",
            "grade": "CT1",
            "specialty": "cardiology",
            "specialty_decided": True,
            "institution": "Royal Infirmary",
            "objectives": ["research career"],
        } | profile
        return self.ok(self.admin.post("/v1/mentees", json=body), 201)

    def request(self, scheme_id: str, mentee_id: str) -> dict[str, Any]:
        body = {"scheme_id": scheme_id, "mentee_id": mentee_id}
        return self.ok(self.admin.post("/v1/relationships", json=body), 201)

    def matched_pair(self, scheme_id: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """A new mentor and mentee, matched: (relationship, mentor, mentee)."""
        mentor, mentee = self.mentor(scheme_id), self.mentee(scheme_id)
        relationship = self.request(scheme_id, mentee["id"])
        path = f"/v1/relationships/{relationship['id']}"
        self.ok(self.admin.post(f"{path}/invite", json={"mentor_id": mentor["id"]}))
        relationship = self.ok(self.admin.post(f"{path}/respond", json={"accept": True}))
        return relationship, mentor, mentee

    def count_events(self) -> int:
        """How many events are stored: to show a refused request changed nothing."""
        return self.runtime.mentoring.recorder.max_notification_id() or 0
