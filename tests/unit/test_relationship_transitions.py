"""Every command against every state: allowed ones move the relationship on,
refused ones raise a domain error naming the command and change nothing."""

from collections.abc import Callable

import pytest

from domain.errors import DomainError
from tests.unit.scenario import Pairing

# How to arrange each starting state: the steps a pair goes through to get there.
Step = Callable[[Pairing], None]
MATCH: list[Step] = [Pairing.invite, Pairing.accept]
MEET: list[Step] = [*MATCH, Pairing.meet]
ARRANGE: dict[str, list[Step]] = {
    "requested": [],
    "requested+stalled": [lambda p: p.flag("unmatched")()],
    "requested+paused": [Pairing.pause],
    "mentor_invited": [Pairing.invite],
    "matched": MATCH,
    "matched+stalled": [*MATCH, lambda p: p.flag("no_first_meeting")()],
    "active": MEET,
    "active+stalled": [*MEET, lambda p: p.flag("meeting_overdue")()],
    "active+escalated": [*MEET, lambda p: p.flag("meeting_overdue")(), Pairing.escalate],
    "active+paused": [*MEET, Pairing.pause],
    "active+midpoint_due": [*MEET, Pairing.midpoint_due],
    "active+end_due": [*MEET, Pairing.end_due],
    "ended": [Pairing.end],
    "ended_after_meeting": [*MEET, Pairing.end],
    "rematched": [Pairing.end, Pairing.rematch],
}
ALL = set(ARRANGE)
OPEN = ALL - {"ended", "ended_after_meeting", "rematched"}
ACTIVE = {s for s in ALL if s.startswith("active")}
PAIRED = ACTIVE | {"matched", "matched+stalled"}
STALLED = {"requested+stalled", "matched+stalled", "active+stalled"}
PAUSED = {"requested+paused", "active+paused"}

# command -> (how to run it, the states it is allowed in, the state it leads to)
COMMANDS: dict[str, tuple[Step, set[str], str | None]] = {
    "invite": (
        Pairing.invite,
        {"requested", "requested+stalled", "requested+paused"},
        "mentor_invited",
    ),
    "accept": (Pairing.accept, {"mentor_invited"}, "matched"),
    "decline": (Pairing.decline, {"mentor_invited"}, "requested"),
    "lapse": (Pairing.lapse, {"mentor_invited"}, "requested"),
    "withdraw invitation": (Pairing.withdraw, {"mentor_invited"}, "requested"),
    "log meeting": (Pairing.meet, PAIRED, "active"),
    "record agreement": (Pairing.agree, PAIRED, None),
    "flag unmatched": (lambda p: p.flag("unmatched")(), {"requested", "mentor_invited"}, None),
    "flag mentor_no_response": (
        lambda p: p.flag("mentor_no_response")(),
        {"requested", "mentor_invited"},
        None,
    ),
    "flag no_first_meeting": (lambda p: p.flag("no_first_meeting")(), {"matched"}, "matched"),
    "flag meeting_overdue": (
        lambda p: p.flag("meeting_overdue")(),
        {"active", "active+midpoint_due", "active+end_due"},
        "active",
    ),
    "escalate": (Pairing.escalate, STALLED, None),
    "pause": (Pairing.pause, OPEN - PAUSED, None),
    "resume": (Pairing.resume, PAUSED, None),
    "extend": (Pairing.extend, ACTIVE, "active"),
    "mark midpoint due": (Pairing.midpoint_due, ACTIVE - {"active+midpoint_due"}, "active"),
    "mark end due": (Pairing.end_due, ACTIVE - {"active+end_due"}, "active"),
    "end no_blame": (lambda p: p.end("no_blame"), OPEN, "ended"),
    "end withdrawn": (lambda p: p.end("withdrawn"), OPEN, "ended"),
    "end completed": (lambda p: p.end("completed"), ACTIVE, "ended"),
    "complete": (Pairing.complete, ACTIVE, "ended"),
    "rematch": (Pairing.rematch, {"ended", "ended_after_meeting"}, "rematched"),
    "baseline feedback": (lambda p: p.feedback("baseline")(), OPEN, None),
    "midpoint feedback": (
        lambda p: p.feedback("midpoint")(),
        ACTIVE | {"ended_after_meeting", "ended", "rematched"},
        None,
    ),
    "end feedback": (
        lambda p: p.feedback("end")(),
        {"active+end_due", "ended", "ended_after_meeting", "rematched"},
        None,
    ),
    "record a party erased": (Pairing.party_erased, ALL - OPEN, None),
}

CASES = [(command, state) for command in COMMANDS for state in sorted(ARRANGE)]


def arranged(state: str) -> Pairing:
    pairing = Pairing.requested()
    for step in ARRANGE[state]:
        step(pairing)
    return pairing


@pytest.mark.parametrize(("command", "state"), CASES)
def test_command_in_state(command: str, state: str) -> None:
    run, allowed_in, leads_to = COMMANDS[command]
    pairing = arranged(state)
    before = pairing.relationship
    if state in allowed_in:
        run(pairing)
        after = pairing.relationship
        assert after.version > before.version
        if command == "rematch":
            assert after.rematched_to is not None
        expected = leads_to or before.state
        assert after.state == expected
    else:
        with pytest.raises(DomainError) as refusal:
            run(pairing)
        assert pairing.relationship.version == before.version
        assert str(refusal.value)


def test_every_arranged_state_is_what_it_says() -> None:
    for name in ARRANGE:
        relationship = arranged(name).relationship
        state, _, flag = name.partition("+")
        assert relationship.state == state.replace("ended_after_meeting", "ended")
        if flag in ("stalled", "paused", "escalated", "midpoint_due", "end_due"):
            assert getattr(relationship, flag) is True
