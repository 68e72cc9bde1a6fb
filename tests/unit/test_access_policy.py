"""The access policy is data: every action names the roles that may take it, and no
two actions are one (as two members of an Enum with equal values would be)."""

from domain.actors import ROLES
from services.access import POLICY, Action, allowed, sees_sealed
from services.auth import Principal


def caller(role: str) -> Principal:
    return Principal(role=role, token_id="token")


def test_every_action_has_its_own_entry_naming_known_roles() -> None:
    assert list(POLICY) == list(Action)
    assert len({action.value for action in Action}) == len(Action)
    assert all(POLICY[action] <= set(ROLES) for action in Action)


def test_inviting_and_requesting_are_separate_actions_with_the_same_roles() -> None:
    assert Action.INVITE_MENTOR is not Action.REQUEST_MENTOR
    assert POLICY[Action.INVITE_MENTOR] == POLICY[Action.REQUEST_MENTOR]


def test_only_auditors_see_who_ended_a_pairing_without_blame_and_why() -> None:
    assert [role for role in ROLES if sees_sealed(caller(role))] == ["auditor"]


def test_reporters_read_aggregates_only() -> None:
    assert [action for action in Action if allowed(caller("reporter"), action)] == [
        Action.READ_AGGREGATE_REPORTS
    ]
