"""The pair page's timeline in plain words: every event a relationship records has a
sentence of its own (no class name, no fallback), and durations read as people say
them."""

from datetime import UTC, date, datetime, timedelta
from typing import Any, get_type_hints
from uuid import UUID

import pytest

from domain.relationship import Relationship
from services.web.timeline import by_whom, how_long, what

SAMPLES: dict[str, Any] = {
    "mentor_id": str(UUID(int=1)),
    "reason": "unmatched",
    "kind": "no_blame",
    "mode": "video",
    "held_on": "2026-12-01",
    "planned_end": "2027-12-31T00:00:00+00:00",
    "until": "2027-01-31",
    "reason_category": "sickness",
    "duration_minutes": 45,
    "meeting_frequency": "monthly",
    "stage": "midpoint",
    "respondent": "mentee",
}


def event_types() -> list[type]:
    """The events a Relationship declares (not eventsourcing's default `Created`,
    which `Requested` takes the place of)."""
    return [
        kind
        for kind in vars(Relationship).values()
        if isinstance(kind, type)
        and issubclass(kind, Relationship.Event)
        and kind is not Relationship.Event
        and kind.__name__ != "Created"
    ]


@pytest.mark.parametrize("kind", event_types(), ids=lambda kind: kind.__name__)
def test_every_event_has_a_sentence_of_its_own(kind: type) -> None:
    fields = get_type_hints(kind)
    details = {name: SAMPLES.get(name) for name in fields}
    sentence = what({"type": kind.__name__, "details": details}, lambda _: "Dr Named Mentor")
    assert sentence != "Changed"
    if sum(c.isupper() for c in kind.__name__) > 1:  # a class name, not a word
        assert kind.__name__ not in sentence
    assert "_" not in sentence


def test_sentences_name_the_mentor_and_the_facts() -> None:
    invited = {"type": "MentorInvited", "details": {"mentor_id": str(UUID(int=1))}}
    assert what(invited, lambda _: "Dr Asha Rao") == "Dr Asha Rao was invited to be the mentor"
    met = {
        "type": "MeetingLogged",
        "details": {
            "held_on": date(2026, 12, 1).isoformat(),
            "mode": "phone",
            "duration_minutes": 30,
        },
    }
    assert what(met, str) == "Met on 1 December 2026, by phone, for 30 minutes"


def test_who_did_it_in_words() -> None:
    assert by_whom({"role": "coordinator", "id": "x"}) == "by a coordinator"
    assert by_whom({"role": "system", "id": "match_within"}).startswith("automatically")
    assert by_whom(None) == ""  # sealed


@pytest.mark.parametrize(
    ("elapsed", "words"),
    [
        (timedelta(seconds=5), "under a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(hours=5, minutes=3), "5 hours"),
        (timedelta(days=3, hours=2), "3 days"),
        (datetime(2026, 1, 1, tzinfo=UTC) - datetime(2026, 1, 2, tzinfo=UTC), "under a minute"),
    ],
)
def test_how_long(elapsed: timedelta, words: str) -> None:
    assert how_long(elapsed) == words


def test_an_erasure_on_the_pair_names_the_party_only() -> None:
    erased = {"type": "PartyErased", "details": {"party": "mentor"}}
    assert what(erased, lambda _: "Dr Named Mentor") == "The mentor's personal details were erased"
