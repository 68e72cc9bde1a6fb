"""The three matching models in the application, on in-memory persistence: what a
coordinator, a mentee and the timers can do, and what every invitation records."""

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pytest

from domain.actors import Actor
from domain.errors import InvalidValue, NotEligible, TransitionRefused
from domain.matching import ALGORITHM_VERSION
from domain.matching_settings import DEFAULT_MATCHING, PARTS
from domain.relationship import Relationship
from domain.scheme import Scheme
from domain.timers import Outcome
from services import matchmaking
from services.application import Mentoring
from services.persistence import popo_env

COORDINATOR = Actor("coordinator", "token-1")
ADMIN = Actor("admin", "token-0")


@dataclass
class Deanery:
    """One scheme, its mentors and mentees by name, and their requests."""

    app: Mentoring
    scheme_id: UUID
    mentors: dict[str, UUID] = field(default_factory=dict)
    mentees: dict[str, UUID] = field(default_factory=dict)
    requests: dict[str, UUID] = field(default_factory=dict)

    @classmethod
    def with_scheme(cls, model: str, **settings: Any) -> "Deanery":
        app = Mentoring(env=popo_env())
        body = {"name": "North deanery", "matching_model": model} | settings
        return cls(app, app.create_scheme(body, ADMIN).aggregate.id)

    def mentor(self, name: str, **profile: Any) -> UUID:
        body = {
            "scheme_id": self.scheme_id,
            "name": f"Dr {name.title()}",
            "email": f"{name}@nhs.example",
            "grade": "consultant",
            "specialty": "cardiology",
            "institution": "York Hospital",
            "interests": ["research"],
            "capacity": 1,
            "trained_on": None,
        } | profile
        self.mentors[name] = self.app.register_mentor(body, ADMIN).aggregate.id
        return self.mentors[name]

    def mentee(self, name: str, **profile: Any) -> UUID:
        body = {
            "scheme_id": self.scheme_id,
            "cohort": "2026",
            "name": f"Dr {name.title()}",
            "email": f"{name}@nhs.example",
            "grade": "CT1",
            "specialty": "cardiology",
            "specialty_decided": True,
            "institution": "Leeds General Infirmary",
            "interests": ["research"],
            "objectives": [],
            "line_manager_ids": [],
            "demographics": None,
        } | profile
        self.mentees[name] = self.app.register_mentee(body, ADMIN).aggregate.id
        as_mentee = self.as_mentee(name)
        saved = self.app.request_mentor(self.scheme_id, self.mentees[name], [], as_mentee)
        self.requests[name] = saved.aggregate.id
        return self.requests[name]

    def as_mentee(self, name: str) -> Actor:
        return Actor("mentee", str(self.mentees[name]))

    def as_mentor(self, name: str) -> Actor:
        return Actor("mentor", str(self.mentors[name]))

    def invite(self, mentee: str, mentor: str, actor: Actor = COORDINATOR) -> None:
        self.app.invite_mentor(self.requests[mentee], self.mentors[mentor], actor)

    def answer(self, mentee: str, accept: bool) -> None:
        mentor_id = self.app.get_relationship(self.requests[mentee]).mentor_id
        self.app.respond_to_invitation(
            self.requests[mentee], accept, Actor("mentor", str(mentor_id))
        )

    def lapse(self, mentee: str) -> Outcome:
        """The invitation's response timer fires."""
        invited_at = self.app.get_relationship(self.requests[mentee]).invited_at
        assert invited_at is not None
        return self.app.lapse_invitation(self.requests[mentee], invited_at)

    def relationship(self, mentee: str) -> Relationship:
        return self.app.get_relationship(self.requests[mentee])

    def state(self, mentee: str) -> str:
        return str(self.app.get_relationship(self.requests[mentee]).state)

    def mentor_of(self, mentee: str) -> UUID | None:
        return self.app.get_relationship(self.requests[mentee]).mentor_id

    def candidate_ids(self, mentee: str) -> list[UUID]:
        return [c.mentor_id for c in self.app.matchmaking.candidates(self.requests[mentee])]

    def last_event(self, mentee: str) -> Any:
        return self.app.relationship_events(self.requests[mentee])[-1]


def refusal(call: Any) -> str:
    with pytest.raises(NotEligible) as refused:
        call()
    return refused.value.reason


# Scheme settings ----------------------------------------------------------------


def test_a_scheme_matches_by_the_defaults_unless_told_otherwise() -> None:
    deanery = Deanery.with_scheme("hybrid", matching={"hybrid_k": 2, "pick_within": "P7D"})
    scheme = deanery.app.get_scheme(deanery.scheme_id)
    assert scheme.matching == DEFAULT_MATCHING | {"hybrid_k": 2, "pick_within": "P7D"}
    changes = {"matching": {"weights": {"specialty": 0.6}, "institution": "local"}}
    deanery.app.change_scheme(deanery.scheme_id, changes, ADMIN)
    changed = deanery.app.get_scheme(deanery.scheme_id).matching
    assert changed["weights"] == DEFAULT_MATCHING["weights"] | {"specialty": 0.6}
    assert (changed["institution"], changed["hybrid_k"]) == ("local", 2)


@pytest.mark.parametrize(
    "matching",
    [
        {"hybrid_k": 0},
        {"pick_within": "soon"},
        {"weights": {"kindness": 1.0}},
        {"career_gap_min": 5, "career_gap_max": 1},
        {"colour": "blue"},
    ],
)
def test_matching_settings_that_make_no_sense_are_refused(matching: dict[str, Any]) -> None:
    deanery = Deanery.with_scheme("assigned")
    with pytest.raises(InvalidValue):
        deanery.app.change_scheme(deanery.scheme_id, {"matching": matching}, ADMIN)
    with pytest.raises(InvalidValue):
        Deanery.with_scheme("assigned", matching=matching)
    assert deanery.app.get_scheme(deanery.scheme_id).matching == DEFAULT_MATCHING


def test_a_scheme_created_before_matching_settings_existed_matches_by_the_defaults() -> None:
    created = Scheme.create({"name": "Old", "matching_model": "assigned"}, ADMIN)
    recorded = created.collect_events()[0]
    del recorded.__dict__["matching"]  # as stored before the setting existed
    replayed = recorded.mutate(None)
    assert isinstance(replayed, Scheme)
    assert replayed.matching == DEFAULT_MATCHING


# What every invitation records --------------------------------------------------


def test_a_coordinators_invitation_records_why_the_pair_was_made() -> None:
    deanery = Deanery.with_scheme("assigned")
    deanery.mentor("asha")
    deanery.mentee("ben")
    deanery.invite("ben", "asha")
    invited = deanery.last_event("ben")
    assert type(invited).__name__ == "MentorInvited"
    why = invited.rationale
    assert (why["algorithm_version"], why["basis"]) == (ALGORITHM_VERSION, "coordinator_choice")
    assert why["weights"] == DEFAULT_MATCHING["weights"]
    assert [part["name"] for part in why["parts"]] == list(PARTS)
    assert 0 < why["score"] <= 1
    assert deanery.app.get_relationship(deanery.requests["ben"]).rationale == why


def test_a_match_without_acceptance_records_why_as_well() -> None:
    deanery = Deanery.with_scheme("mentee_choice", require_mentor_acceptance=False)
    deanery.mentor("asha")
    deanery.mentee("ben")
    deanery.invite("ben", "asha", deanery.as_mentee("ben"))
    matched = deanery.last_event("ben")
    assert type(matched).__name__ == "Matched"
    assert matched.rationale["basis"] == "mentee_choice"


# Candidates and the places invitations hold -------------------------------------


def test_candidates_leave_out_line_managers_previous_mentors_and_held_places() -> None:
    deanery = Deanery.with_scheme("mentee_choice")
    manager, held, free = (deanery.mentor(n) for n in ("manager", "held", "free"))
    deanery.mentee("ben", line_manager_ids=[manager])
    deanery.mentee("cara")
    deanery.invite("cara", "held")
    assert deanery.candidate_ids("ben") == [free]
    assert deanery.app.matchmaking.places_held() == {held: 1}
    deanery.answer("cara", accept=False)
    assert deanery.app.matchmaking.places_held() == {}
    assert set(deanery.candidate_ids("ben")) == {free, held}


@pytest.mark.parametrize("answer", ["accepted", "declined", "lapsed", "ended"])
def test_an_invitation_holds_a_place_until_it_is_answered_or_ends(answer: str) -> None:
    deanery = Deanery.with_scheme("assigned")
    asha = deanery.mentor("asha")
    ben = deanery.mentee("ben")
    deanery.invite("ben", "asha")
    assert deanery.app.matchmaking.places_held() == {asha: 1}
    if answer in ("accepted", "declined"):
        deanery.answer("ben", accept=answer == "accepted")
    elif answer == "lapsed":
        deanery.lapse("ben")
    else:
        deanery.app.end(ben, "withdrawn", None, COORDINATOR)
    assert deanery.app.matchmaking.places_held() == {}
    assert deanery.app.get_mentor(asha).load == (answer == "accepted")


def test_an_invitation_withdrawn_in_the_race_for_a_last_place_holds_nothing() -> None:
    deanery = Deanery.with_scheme("assigned")
    asha = deanery.mentor("asha")
    deanery.mentee("ben")
    deanery.mentee("cara")
    deanery.invite("ben", "asha")
    deanery.invite("cara", "asha")
    assert deanery.app.matchmaking.places_held() == {asha: 2}
    deanery.answer("ben", accept=True)
    with pytest.raises(NotEligible):
        deanery.answer("cara", accept=True)
    assert deanery.app.matchmaking.places_held() == {}


def test_candidates_are_for_a_request_still_waiting_for_a_mentor() -> None:
    deanery = Deanery.with_scheme("assigned")
    deanery.mentor("asha")
    deanery.mentee("ben")
    deanery.invite("ben", "asha")
    with pytest.raises(TransitionRefused):
        deanery.app.matchmaking.candidates(deanery.requests["ben"])


def test_a_mentee_cannot_take_a_place_held_by_an_invitation_but_a_coordinator_may() -> None:
    deanery = Deanery.with_scheme("mentee_choice")
    deanery.mentor("asha")
    deanery.mentee("ben")
    deanery.mentee("cara")
    deanery.invite("ben", "asha", deanery.as_mentee("ben"))
    assert refusal(lambda: deanery.invite("cara", "asha", deanery.as_mentee("cara"))) == (
        "no_capacity"
    )
    deanery.invite("cara", "asha", COORDINATOR)  # knowingly: the first to accept wins
    assert deanery.state("cara") == "mentor_invited"


def test_a_decline_or_a_lapse_lets_a_mentee_choose_again_but_not_the_same_mentor() -> None:
    deanery = Deanery.with_scheme("mentee_choice")
    for name in ("asha", "dev", "eli"):
        deanery.mentor(name)
    deanery.mentee("ben")
    as_ben = deanery.as_mentee("ben")
    deanery.invite("ben", "asha", as_ben)
    deanery.answer("ben", accept=False)
    assert refusal(lambda: deanery.invite("ben", "asha", as_ben)) == "declined_this_request"
    deanery.invite("ben", "dev", as_ben)
    deanery.lapse("ben")
    deanery.invite("ben", "eli", as_ben)
    deanery.answer("ben", accept=True)
    assert (deanery.state("ben"), deanery.mentor_of("ben")) == ("matched", deanery.mentors["eli"])


# Hybrid -------------------------------------------------------------------------


def hybrid_deanery() -> Deanery:
    """Three mentors; two proposed to each mentee. The surgeon fits Ben least."""
    deanery = Deanery.with_scheme("hybrid", matching={"hybrid_k": 2})
    deanery.mentor("asha")
    deanery.mentor("dev", interests=["research", "leadership"])
    deanery.mentor("sam", specialty="general surgery", interests=[])
    deanery.mentee("ben", interests=["research", "leadership"])
    return deanery


def test_a_hybrid_mentee_picks_one_of_the_proposals() -> None:
    deanery = hybrid_deanery()
    proposals = deanery.app.matchmaking.proposals(deanery.requests["ben"])
    assert [c.mentor_id for c in proposals] == [deanery.mentors["dev"], deanery.mentors["asha"]]
    as_ben = deanery.as_mentee("ben")
    assert refusal(lambda: deanery.invite("ben", "sam", as_ben)) == "not_proposed"
    deanery.invite("ben", "asha", as_ben)
    assert deanery.last_event("ben").rationale["basis"] == "ranked_candidates"


def test_a_coordinator_may_assign_a_hybrid_mentee_directly() -> None:
    deanery = hybrid_deanery()
    deanery.invite("ben", "sam", COORDINATOR)
    assert deanery.state("ben") == "mentor_invited"


def test_a_hybrid_mentee_who_has_not_picked_in_time_is_brought_to_the_coordinator() -> None:
    deanery = hybrid_deanery()
    waiting_since = deanery.relationship("ben").requested_since
    overdue = deanery.app.notify_pick_overdue(deanery.requests["ben"], waiting_since)
    assert overdue == Outcome.RECORDED
    relationship = deanery.relationship("ben")
    assert (relationship.stall_reason, relationship.escalated) == ("unmatched", True)
    assert deanery.last_event("ben").actor == Actor.system("pick_within")
    # A retry finds it recorded and changes nothing; after a pick the fact has moved on.
    version = relationship.version
    again = deanery.app.notify_pick_overdue(deanery.requests["ben"], waiting_since)
    assert (again, deanery.relationship("ben").version) == (Outcome.RECORDED, version)
    deanery.invite("ben", "asha", COORDINATOR)
    late = deanery.app.notify_pick_overdue(deanery.requests["ben"], waiting_since)
    assert late == Outcome.UNCHANGED
    assert deanery.relationship("ben").version == version + 1


def test_a_pick_deadline_counts_from_the_last_time_the_request_began_waiting() -> None:
    deanery = hybrid_deanery()
    first_wait = deanery.relationship("ben").requested_since
    deanery.invite("ben", "dev", deanery.as_mentee("ben"))
    deanery.app.pause(deanery.requests["ben"], "sickness", None, COORDINATOR)
    deanery.answer("ben", accept=False)  # paused: nobody else is invited meanwhile
    waiting_since = deanery.relationship("ben").requested_since
    assert waiting_since > first_wait
    assert deanery.app.notify_pick_overdue(deanery.requests["ben"], first_wait) == (
        Outcome.UNCHANGED
    )
    assert deanery.app.notify_pick_overdue(deanery.requests["ben"], waiting_since) == (
        Outcome.PAUSED
    )
    assert deanery.relationship("ben").stalled is False


def test_a_pick_deadline_means_nothing_outside_the_hybrid_model() -> None:
    deanery = Deanery.with_scheme("mentee_choice")
    deanery.mentee("ben")
    waiting_since = deanery.relationship("ben").requested_since
    before = deanery.app.recorder.max_notification_id()
    outcome = deanery.app.notify_pick_overdue(deanery.requests["ben"], waiting_since)
    assert outcome == Outcome.UNCHANGED
    assert deanery.app.recorder.max_notification_id() == before


# After a decline or a lapse: the matching model's policy (domain.policy) ----------

REFUSALS = ["decline", "lapse"]
BY_REFUSAL = {
    "decline": Actor.system("invitation_declined"),
    "lapse": Actor.system("mentor_response_within"),
}


def refuse(deanery: Deanery, mentee: str, refusal: str) -> None:
    """The invited mentor declines, or lets the invitation lapse."""
    if refusal == "decline":
        deanery.answer(mentee, accept=False)
    else:
        assert deanery.lapse(mentee) == Outcome.RECORDED


def invited_by_the_service(deanery: Deanery, mentee: str, mentor: str, refusal: str) -> None:
    relationship = deanery.relationship(mentee)
    assert (relationship.state, relationship.mentor_id) == (
        "mentor_invited",
        deanery.mentors[mentor],
    )
    invited = deanery.last_event(mentee)
    assert type(invited).__name__ == "MentorInvited"
    assert invited.actor == BY_REFUSAL[refusal]
    assert invited.rationale["basis"] == "ranked_candidates"


def three_mentors(model: str) -> Deanery:
    """As hybrid_deanery, under any model; the coordinator invites Dev, the best."""
    deanery = Deanery.with_scheme(model, matching={"hybrid_k": 2})
    deanery.mentor("asha")
    deanery.mentor("dev", interests=["research", "leadership"])
    deanery.mentor("sam", specialty="general surgery", interests=[])
    deanery.mentee("ben", interests=["research", "leadership"])
    deanery.invite("ben", "dev")
    return deanery


@pytest.mark.parametrize("refusal", REFUSALS)
def test_assigned_after_a_refusal_the_next_best_candidate_is_invited(refusal: str) -> None:
    deanery = three_mentors("assigned")
    refuse(deanery, "ben", refusal)
    invited_by_the_service(deanery, "ben", "asha", refusal)
    refuse(deanery, "ben", refusal)
    invited_by_the_service(deanery, "ben", "sam", refusal)
    refuse(deanery, "ben", refusal)
    relationship = deanery.relationship("ben")  # nobody is left: the coordinator's turn
    assert (relationship.state, relationship.escalated) == ("requested", False)
    assert len(relationship.declined_mentor_ids) == 3


@pytest.mark.parametrize("refusal", REFUSALS)
def test_hybrid_after_a_refusal_the_next_candidate_then_the_coordinator(refusal: str) -> None:
    deanery = three_mentors("hybrid")
    refuse(deanery, "ben", refusal)
    invited_by_the_service(deanery, "ben", "asha", refusal)
    assert deanery.relationship("ben").escalated is False
    refuse(deanery, "ben", refusal)  # as many refusals as the scheme proposes mentors
    relationship = deanery.relationship("ben")
    assert (relationship.state, relationship.stalled, relationship.escalated) == (
        "requested",
        True,
        True,
    )
    assert relationship.stall_reason == (
        "unmatched" if refusal == "decline" else "mentor_no_response"
    )
    deanery.invite("ben", "sam", COORDINATOR)
    assert deanery.state("ben") == "mentor_invited"


@pytest.mark.parametrize("refusal", REFUSALS)
def test_hybrid_with_no_candidate_left_the_coordinator_is_told_at_once(refusal: str) -> None:
    deanery = Deanery.with_scheme("hybrid", matching={"hybrid_k": 3})
    deanery.mentor("asha")
    deanery.mentee("ben")
    deanery.invite("ben", "asha", deanery.as_mentee("ben"))
    refuse(deanery, "ben", refusal)
    relationship = deanery.relationship("ben")
    assert (relationship.state, relationship.escalated) == ("requested", True)


@pytest.mark.parametrize("refusal", REFUSALS)
def test_mentee_choice_after_a_refusal_the_mentee_chooses_again(refusal: str) -> None:
    deanery = three_mentors("mentee_choice")
    refuse(deanery, "ben", refusal)
    relationship = deanery.relationship("ben")
    assert (relationship.state, relationship.mentor_id, relationship.escalated) == (
        "requested",
        None,
        False,
    )
    assert relationship.stalled is (refusal == "lapse")  # the lapse flags mentor_no_response
    deanery.invite("ben", "asha", deanery.as_mentee("ben"))
    assert deanery.state("ben") == "mentor_invited"


def test_a_paused_request_is_left_alone_after_a_decline() -> None:
    deanery = three_mentors("assigned")
    deanery.app.pause(deanery.requests["ben"], "parental_leave", None, COORDINATOR)
    deanery.answer("ben", accept=False)
    relationship = deanery.relationship("ben")
    assert (relationship.state, relationship.paused, relationship.escalated) == (
        "requested",
        True,
        False,
    )


def test_a_lapse_retried_after_it_was_recorded_changes_nothing() -> None:
    deanery = three_mentors("assigned")
    invited_at = deanery.relationship("ben").invited_at
    assert invited_at is not None
    assert deanery.app.lapse_invitation(deanery.requests["ben"], invited_at) == Outcome.RECORDED
    version = deanery.relationship("ben").version
    assert deanery.app.lapse_invitation(deanery.requests["ben"], invited_at) == Outcome.RECORDED
    assert deanery.relationship("ben").version == version
    invited_by_the_service(deanery, "ben", "asha", "lapse")


def cohort() -> Deanery:
    """Four places for five waiting mentees, one of whom every mentor manages."""
    deanery = Deanery.with_scheme("assigned")
    asha = deanery.mentor("asha", capacity=2)
    deanery.mentor("dev")
    deanery.mentor("sam", specialty="general surgery")
    deanery.mentee("ben", line_manager_ids=[asha])
    deanery.mentee("cara")
    deanery.mentee("ema", specialty="general surgery")
    deanery.mentee("fin")
    deanery.mentee("gus", line_manager_ids=list(deanery.mentors.values()))
    deanery.app.pause(deanery.requests["fin"], "sickness", None, COORDINATOR)
    deanery.mentee("hal")
    return deanery


def test_a_dry_run_proposes_the_cohorts_pairs_and_changes_nothing() -> None:
    deanery = cohort()
    before = deanery.app.recorder.max_notification_id()
    run = deanery.app.matchmaking.match_cohort(deanery.scheme_id, True, COORDINATOR)
    assert deanery.app.recorder.max_notification_id() == before
    proposed = {p.relationship_id: p.candidate.mentor_id for p in run.proposals}
    names = {v: k for k, v in deanery.requests.items()}
    assert {names[r] for r in proposed} == {"ben", "cara", "ema", "hal"}
    assert proposed[deanery.requests["ben"]] != deanery.mentors["asha"]
    left = {names[u.relationship_id]: u.reason for u in run.unmatched}
    assert left == {"fin": "paused", "gus": "no_eligible_mentor"}
    assert all(deanery.state(name) == "requested" for name in deanery.requests)


def test_a_cohort_run_invites_every_proposal_with_its_rationale() -> None:
    deanery = cohort()
    run = deanery.app.matchmaking.match_cohort(deanery.scheme_id, False, COORDINATOR)
    assert len(run.proposals) == 4
    for proposal in run.proposals:
        relationship = deanery.app.get_relationship(proposal.relationship_id)
        assert (relationship.state, relationship.mentor_id) == (
            "mentor_invited",
            proposal.candidate.mentor_id,
        )
        assert relationship.rationale is not None
        assert relationship.rationale["basis"] == "cohort_assignment"
        assert relationship.rationale["score"] == round(proposal.candidate.score, 6)
    held = deanery.app.matchmaking.places_held()
    assert all(held[m] <= deanery.app.get_mentor(m).capacity for m in deanery.mentors.values())
    # Nothing is left to pair: a second run proposes nobody.
    again = deanery.app.matchmaking.match_cohort(deanery.scheme_id, False, COORDINATOR)
    assert again.proposals == ()


def test_a_proposal_that_something_changed_meanwhile_is_left_unmatched_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deanery = cohort()
    assign = matchmaking.assign_cohort

    def assign_then_sam_steps_back(*args: Any, **kwargs: Any) -> Any:
        result = assign(*args, **kwargs)
        deanery.app.update_mentor(deanery.mentors["sam"], COORDINATOR, available=False)
        return result

    monkeypatch.setattr(matchmaking, "assign_cohort", assign_then_sam_steps_back)
    run = deanery.app.matchmaking.match_cohort(deanery.scheme_id, False, COORDINATOR)
    assert deanery.state("ema") == "requested"
    left = {u.relationship_id: u for u in run.unmatched}
    assert left[deanery.requests["ema"]].reason == "unavailable"
    assert len(run.proposals) == 3
    assert all(deanery.state(n) == "mentor_invited" for n in ("ben", "cara", "hal"))
