"""The three matching models over HTTP, on one scripted cohort each.

Four mentors: Asha (two places, Ben's line manager), Dev (Cara's mentor before her
rematch), Sam (a surgeon) and Una (not available). Five mentees wait: Ben, Cara,
Ema (surgery), Fin, and Gus, whom every mentor manages. Each model must pair the
four who have an eligible mentor, keep every capacity, never pair a line manager
or a previous mentor, and show why each pair was made.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx

from domain.timers import TIMER, Outcome
from tests.e2e.client import Api
from tests.support.mentoring import fact

PAIRED = ("ben", "cara", "ema", "fin")


@dataclass
class Cohort:
    api: Api
    scheme: str
    coordinator: httpx.Client
    mentors: dict[str, str] = field(default_factory=dict)
    mentees: dict[str, str] = field(default_factory=dict)
    requests: dict[str, str] = field(default_factory=dict)
    line_managers: dict[str, list[str]] = field(default_factory=dict)
    previous: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def scripted(cls, api: Api, model: str, **settings: Any) -> "Cohort":
        scheme = api.scheme(name=f"Cohort ({model})", matching_model=model, **settings)["id"]
        coordinator = api.as_(api.token("coordinator", scheme_ids=[scheme]))
        cohort = cls(api, scheme, coordinator)
        for name, profile in (
            ("asha", {"capacity": 2, "interests": ["research", "leadership"]}),
            ("dev", {"capacity": 1}),
            ("sam", {"capacity": 1, "specialty": "general surgery", "interests": ["exams"]}),
            ("una", {"capacity": 1}),
        ):
            body = {"name": f"Dr {name.title()}", "email": f"{name}@nhs.example"} | profile
            cohort.mentors[name] = api.mentor(scheme, **body)["id"]
        api.ok(api.admin.patch(f"/v1/mentors/{cohort.mentors['una']}", json={"available": False}))
        m = cohort.mentors
        for name, profile in (
            ("ben", {"line_manager_ids": [m["asha"]]}),
            ("cara", {"grade": "ST3"}),
            ("ema", {"specialty": "general surgery", "grade": "CT2"}),
            ("fin", {"grade": "FY2"}),
            ("gus", {"line_manager_ids": list(m.values())}),
        ):
            body = {"name": f"Dr {name.title()}", "email": f"{name}@nhs.example"} | profile
            cohort.mentees[name] = api.mentee(scheme, **body)["id"]
            cohort.requests[name] = api.request(scheme, cohort.mentees[name])["id"]
            cohort.line_managers[name] = list(profile.get("line_manager_ids", []))
            cohort.previous[name] = []
        cohort.rematch_after_a_pairing("cara", "dev")
        return cohort

    def rematch_after_a_pairing(self, mentee: str, mentor: str) -> None:
        """The mentee had this mentor, ended without blame and asked again."""
        path = f"/v1/relationships/{self.requests[mentee]}"
        for command, body in (
            ("invite", {"mentor_id": self.mentors[mentor]}),
            ("respond", {"accept": True}),
            ("end", {"kind": "no_blame"}),
        ):
            self.api.ok(self.api.admin.post(f"{path}/{command}", json=body))
        self.requests[mentee] = self.api.ok(self.api.admin.post(f"{path}/rematch"), 201)["id"]
        self.previous[mentee].append(self.mentors[mentor])

    def fire(self, mentee: str, timer: str) -> None:
        """The timer of the mentee's request fires, as the workflow would run it."""
        relationship_id = UUID(self.requests[mentee])
        mentoring = self.api.runtime.mentoring
        basis = fact(mentoring, relationship_id, timer)
        command = TIMER[timer].consequences[0].command
        assert getattr(mentoring, command)(relationship_id, basis) == Outcome.RECORDED

    def as_mentee(self, name: str) -> httpx.Client:
        return self.api.as_(self.api.token("mentee", subject_id=self.mentees[name]))

    def as_mentor(self, name: str) -> httpx.Client:
        return self.api.as_(self.api.token("mentor", subject_id=self.mentors[name]))

    def relationship(self, mentee: str) -> dict[str, Any]:
        return self.api.ok(self.coordinator.get(f"/v1/relationships/{self.requests[mentee]}"))

    def candidates(self, mentee: str, client: httpx.Client | None = None) -> list[str]:
        """The candidates' names, best first, as the coordinator (or `client`) sees them."""
        path = f"/v1/relationships/{self.requests[mentee]}/candidates"
        found = self.api.ok_list((client or self.coordinator).get(path))
        for candidate in found:
            assert candidate["reasons"] and 0 <= candidate["score"] <= 1
        scores = [c["score"] for c in found]
        assert scores == sorted(scores, reverse=True)
        names = {v: k for k, v in self.mentors.items()}
        return [names[c["mentor_id"]] for c in found]

    def invite(self, mentee: str, mentor: str, client: httpx.Client) -> httpx.Response:
        path = f"/v1/relationships/{self.requests[mentee]}/invite"
        return client.post(path, json={"mentor_id": self.mentors[mentor]})

    def refused(self, mentee: str, mentor: str, client: httpx.Client) -> str:
        """The reason the invitation is refused (409)."""
        response = self.invite(mentee, mentor, client)
        assert response.status_code == 409, response.text
        return str(response.json()["reason"])

    def answer(self, mentee: str, mentor: str, accept: bool) -> None:
        path = f"/v1/relationships/{self.requests[mentee]}/respond"
        self.api.ok(self.as_mentor(mentor).post(path, json={"accept": accept}))

    def accept_every_invitation(self) -> None:
        names = {v: k for k, v in self.mentors.items()}
        for mentee in self.requests:
            relationship = self.relationship(mentee)
            if relationship["state"] == "mentor_invited":
                self.answer(mentee, names[relationship["mentor_id"]], accept=True)

    def assert_paired_by_the_rules(self) -> dict[str, str]:
        """Every mentee with an eligible mentor is matched, within every capacity,
        never to a line manager or previous mentor, and each match shows why, to the
        coordinator and to an auditor. Returns each match's basis."""
        api, auditor = self.api, self.api.as_(self.api.token("auditor"))
        mentor_ids, bases = Counter[str](), {}
        for mentee in PAIRED:
            relationship = self.relationship(mentee)
            assert relationship["state"] == "matched", (mentee, relationship)
            mentor_id = relationship["mentor_id"]
            assert mentor_id not in self.line_managers[mentee] + self.previous[mentee], mentee
            mentor_ids[mentor_id] += 1
            for reader in (self.coordinator, auditor):
                path = f"/v1/relationships/{self.requests[mentee]}/events"
                history = api.ok_list(reader.get(path))
                invited = [e for e in history if e["type"] == "MentorInvited"][-1]
                assert_explained(invited["details"]["rationale"])
            bases[mentee] = relationship["rationale"]["basis"]
        assert self.relationship("gus")["state"] == "requested"
        assert self.mentors["una"] not in mentor_ids
        for mentor_id in self.mentors.values():
            mentor = api.ok(api.admin.get(f"/v1/mentors/{mentor_id}"))
            assert mentor["load"] == mentor_ids[mentor_id] <= mentor["capacity"], mentor
        return bases


def assert_explained(rationale: dict[str, Any]) -> None:
    assert rationale["algorithm_version"]
    assert set(rationale["weights"]) == {p["name"] for p in rationale["parts"]}
    assert 0 <= rationale["score"] <= 1
    assert all(part["reason"] for part in rationale["parts"])


def test_assigned_the_coordinator_pairs_the_cohort_at_once(api: Api) -> None:
    cohort = Cohort.scripted(api, "assigned")
    assert cohort.candidates("ben") == ["dev", "sam"]  # not Asha, his line manager; not Una
    assert cohort.candidates("gus") == []
    path = f"/v1/schemes/{cohort.scheme}/match-cohort"

    events = api.count_events()
    dry = api.ok(cohort.coordinator.post(path, json={"dry_run": True}))
    assert api.count_events() == events
    assert all(cohort.relationship(name)["state"] == "requested" for name in cohort.requests)
    by_request = {v: k for k, v in cohort.requests.items()}
    assert sorted(by_request[p["relationship_id"]] for p in dry["proposals"]) == list(PAIRED)
    assert all(p["reasons"] and 0 <= p["score"] <= 1 for p in dry["proposals"])
    [gus] = dry["unmatched"]
    assert (by_request[gus["relationship_id"]], gus["reason"]) == ("gus", "no_eligible_mentor")
    assert "line_manager" in gus["reasons"][0]

    run = api.ok(cohort.coordinator.post(path))  # without a body: not a dry run
    assert run["dry_run"] is False
    assert {(p["relationship_id"], p["mentor_id"]) for p in run["proposals"]} == {
        (p["relationship_id"], p["mentor_id"]) for p in dry["proposals"]
    }
    cohort.accept_every_invitation()
    bases = cohort.assert_paired_by_the_rules()
    assert set(bases.values()) == {"cohort_assignment"}


def test_mentee_choice_mentees_choose_one_mentor_at_a_time(api: Api) -> None:
    cohort = Cohort.scripted(api, "mentee_choice")
    ben, cara, ema, fin, gus = (cohort.as_mentee(n) for n in ("ben", "cara", "ema", "fin", "gus"))
    directory = api.ok_list(ben.get("/v1/mentors", params={"available": True}))
    assert {m["name"] for m in directory} == {"Dr Asha", "Dr Dev", "Dr Sam"}

    for mentor in ("asha", "dev", "sam", "una"):
        assert cohort.refused("gus", mentor, gus) in {"line_manager", "unavailable"}
    assert cohort.refused("ben", "asha", ben) == "line_manager"
    assert cohort.refused("cara", "dev", cara) == "previous_mentor"
    api.ok(cohort.invite("cara", "asha", cara))
    api.ok(cohort.invite("ben", "sam", ben))
    cohort.answer("ben", "sam", accept=False)  # a decline lets Ben choose again
    assert cohort.refused("ben", "sam", ben) == "declined_this_request"
    api.ok(cohort.invite("ben", "dev", ben))
    assert cohort.refused("fin", "dev", fin) == "no_capacity"  # Ben's invitation holds it
    api.ok(cohort.invite("fin", "sam", fin))
    # Sam does not answer in time; the lapse lets Fin choose again.
    cohort.fire("fin", "mentor_response_within")
    api.ok(cohort.invite("fin", "asha", fin))
    api.ok(cohort.invite("ema", "sam", ema))

    cohort.accept_every_invitation()
    bases = cohort.assert_paired_by_the_rules()
    assert set(bases.values()) == {"mentee_choice"}


def test_hybrid_mentees_pick_from_proposals_and_the_coordinator_assigns_the_rest(
    api: Api,
) -> None:
    cohort = Cohort.scripted(api, "hybrid", matching={"hybrid_k": 2, "pick_within": "P7D"})
    ben, cara, fin, gus = (cohort.as_mentee(n) for n in ("ben", "cara", "fin", "gus"))

    assert cohort.candidates("fin", fin) == ["asha", "dev"]
    assert cohort.candidates("fin") == ["asha", "dev", "sam"]  # staff see every candidate
    assert cohort.refused("fin", "sam", fin) == "not_proposed"
    api.ok(cohort.invite("fin", "asha", fin))

    assert cohort.candidates("ben", ben) == ["dev", "sam"]
    api.ok(cohort.invite("ben", "dev", ben))
    cohort.answer("ben", "dev", accept=False)
    # One of two picks declined: the service invites the next candidate, Sam.
    ben_now = cohort.relationship("ben")
    assert (ben_now["state"], ben_now["mentor_id"]) == ("mentor_invited", cohort.mentors["sam"])
    assert ben_now["stalled"] is False

    assert cohort.candidates("cara", cara) == ["asha"]
    api.ok(cohort.invite("cara", "asha", cara))
    assert cohort.candidates("gus", gus) == []

    # Ema does not pick in time: the coordinator is told and assigns directly.
    cohort.fire("ema", "pick_within")
    ema = cohort.relationship("ema")
    assert (ema["stalled"], ema["stall_reason"], ema["escalated"]) == (True, "unmatched", True)
    assert cohort.candidates("ema") == ["dev"]
    api.ok(cohort.invite("ema", "dev", cohort.coordinator))

    cohort.accept_every_invitation()
    bases = cohort.assert_paired_by_the_rules()
    assert bases == {
        "ben": "ranked_candidates",
        "cara": "ranked_candidates",
        "ema": "coordinator_choice",
        "fin": "ranked_candidates",
    }
    assert cohort.relationship("ema")["stalled"] is False


def test_matching_settings_are_checked_and_kept_with_the_scheme(api: Api) -> None:
    scheme = api.scheme(matching_model="hybrid", matching={"weights": {"specialty": 0.5}})
    path = f"/v1/schemes/{scheme['id']}"
    assert scheme["matching"]["weights"]["specialty"] == 0.5
    assert (scheme["matching"]["hybrid_k"], scheme["matching"]["pick_within"]) == (3, "P14D")
    events = api.count_events()
    for bad in (
        {"weights": {"specialty": -1}},
        {"weights": {"kindness": 1}},
        {"career_gap_min": 5, "career_gap_max": 1},
        {"pick_within": "P1M"},
        {"hybrid_k": 0},
        {"institution": "nearby"},
    ):
        response = api.admin.patch(path, json={"matching": bad})
        assert response.status_code == 422, (bad, response.text)
    refused = api.admin.post(f"{path}/match-cohort", json={"dry_run": "yes"})
    assert refused.status_code == 422
    assert api.count_events() == events

    changed = api.ok(api.admin.patch(path, json={"matching": {"hybrid_k": 2}}))
    assert changed["matching"]["hybrid_k"] == 2
    assert changed["matching"]["weights"]["specialty"] == 0.5

    relationship, _, _ = api.matched_pair(scheme["id"])
    candidates = f"/v1/relationships/{relationship['id']}/candidates"
    assert api.admin.get(candidates).status_code == 409
    assert api.admin.get(candidates, params={"limit": 0}).status_code == 422
