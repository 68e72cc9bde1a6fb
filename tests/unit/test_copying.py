"""The copy of an aggregate a command works on (domain.copying): equal to the cached
one, sharing only values that cannot change, so what a command does to the copy,
its pending events included, never reaches the cached aggregate."""

from copy import deepcopy

from domain.actors import Actor
from tests.unit.scenario import Pairing


def test_a_command_on_the_copy_leaves_the_original_as_it_was() -> None:
    pairing = Pairing.requested()
    pairing.invite()
    pairing.decline()  # the mentor joins declined_mentor_ids, a list
    original = pairing.relationship
    before = deepcopy(vars(original))

    copy = deepcopy(original)
    assert vars(copy) == vars(original) and copy is not original
    rationale = {"interests": ["research"]}
    copy.invite(pairing.other_mentor_id, True, rationale, Actor("coordinator", "c"))
    copy.declined_mentor_ids.append(pairing.mentor_id)

    assert vars(original) == before
    assert original.state == "requested" and copy.state == "mentor_invited"
    assert original.collect_events() == [] and len(copy.collect_events()) == 1


def test_the_copy_shares_what_cannot_change_and_copies_what_can() -> None:
    pairing = Pairing.requested()
    pairing.invite()
    pairing.accept()
    original = pairing.relationship
    copy = deepcopy(original)
    assert copy.scheme_id is original.scheme_id and copy.created_on is original.created_on
    assert copy.declined_mentor_ids == original.declined_mentor_ids
    assert copy.declined_mentor_ids is not original.declined_mentor_ids
