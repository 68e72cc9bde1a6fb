"""The matching models' policy after a decline or a lapse (domain.policy), on its own."""

import pytest

from domain.policy import NextStep, after_refusal, looks_for_candidates

K = 3  # the mentors a hybrid scheme proposes


def step(model: str, refusals: int = 1, candidate_left: bool = True, paused: bool = False) -> str:
    return after_refusal(
        model, paused=paused, refusals=refusals, hybrid_k=K, candidate_left=candidate_left
    )


@pytest.mark.parametrize("model", ["assigned", "hybrid"])
def test_the_service_invites_the_next_candidate_in_assigned_and_hybrid_schemes(model: str) -> None:
    assert looks_for_candidates(model, paused=False)
    assert step(model) == NextStep.INVITE_NEXT_CANDIDATE


def test_in_mentee_choice_the_mentee_chooses_again_whatever_is_left() -> None:
    assert not looks_for_candidates("mentee_choice", paused=False)
    for refusals, left in ((1, True), (K, False)):
        assert step("mentee_choice", refusals, left) == NextStep.MENTEE_CHOOSES_AGAIN


def test_a_hybrid_request_goes_to_the_coordinator_after_k_refusals_or_none_left() -> None:
    assert step("hybrid", refusals=K - 1) == NextStep.INVITE_NEXT_CANDIDATE
    assert step("hybrid", refusals=K) == NextStep.TELL_COORDINATOR
    assert step("hybrid", refusals=1, candidate_left=False) == NextStep.TELL_COORDINATOR


def test_an_assigned_request_with_nobody_left_waits_for_the_coordinator() -> None:
    assert step("assigned", refusals=K + 5) == NextStep.INVITE_NEXT_CANDIDATE
    assert step("assigned", candidate_left=False) == NextStep.WAIT_FOR_COORDINATOR


@pytest.mark.parametrize("model", ["assigned", "hybrid"])
def test_a_paused_request_is_left_alone(model: str) -> None:
    assert not looks_for_candidates(model, paused=True)
    assert step(model, refusals=K, candidate_left=False, paused=True) == NextStep.WAIT_FOR_RESUME
