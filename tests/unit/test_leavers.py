"""Leavers in the domain: a mentor or mentee who has left the scheme is not matched,
invited or asked for again, and leaving twice is refused."""

from uuid import uuid4

import pytest

from domain.actors import Actor
from domain.people import LeftScheme
from tests.unit.test_matching import ADMIN, mentee, mentor, reasons


def test_a_mentor_who_leaves_is_unavailable_and_excluded_as_having_left() -> None:
    leaver, someone = mentor(), mentee()

    leaver.leave(ADMIN)

    assert leaver.left_at is not None and not leaver.available
    assert reasons(leaver, someone) == ["left_scheme", "unavailable"]


def test_a_mentor_who_has_left_takes_no_place_and_cannot_be_made_available() -> None:
    leaver = mentor()
    leaver.leave(ADMIN)

    with pytest.raises(LeftScheme) as refused:
        leaver.take_place(uuid4(), ADMIN)
    assert refused.value.reason == "left_scheme"
    with pytest.raises(LeftScheme):
        leaver.set_availability(True, ADMIN)
    leaver.set_availability(False, ADMIN)  # no change, no refusal


def test_leaving_twice_is_refused_and_records_nothing_more() -> None:
    leavers = [mentor(), mentee()]
    for leaver in leavers:
        leaver.leave(ADMIN)
        version = leaver.version
        with pytest.raises(LeftScheme):
            leaver.leave(Actor("coordinator", "token"))
        assert leaver.version == version


def test_a_mentee_who_has_left_cannot_ask_for_a_mentor() -> None:
    leaver = mentee()
    leaver.leave(ADMIN)

    with pytest.raises(LeftScheme) as refused:
        leaver.open_request(uuid4(), ADMIN)
    assert str(refused.value) == "the mentee has left the scheme"
