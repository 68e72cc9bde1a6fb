"""A small scheme played through the application on fixed days, whose reports are
worked out by hand in `tests/integration/test_projections_scripted.py`.

Day 0 is 1 March 2024, 09:00 UTC. Cohort 2024 has mentees Asha, Ben, Cara, Dev;
cohort 2025 has Ema. Mentors: Mo (2 places), Nia (1), Raj (1). Mentees choose
(`mentee_choice`), so a decline leaves the request for the next invitation by hand.

    d0   scheme (2024: 6 eligible, 2025: 4), people registered; coordinator named
    d1   Asha, Ben, Cara and Ema ask for a mentor
    d2   Mo invited for Asha; Nia invited for Ben
    d3   Mo accepts Asha                     (2 days to match)
    d4   Nia declines Ben
    d5   Mo invited for Ben; cohort 2024 now has 8 eligible
    d6   Mo accepts Ben                      (5 days to match)
    d7   Raj invited for Ema;  d8 Raj accepts (7 days to match)
    d10  Asha meets Mo, held 10 Mar, in person (6 days after the match); agreement
    d12  Cara flagged stalled: unmatched;  d13 escalated
    d20  Ben meets Mo, held 20 Mar, video (13 days after the match)
    d25  Ema meets Raj, held 26 Mar, phone (17 days after the match)
    d30  Asha meets Mo again, held 31 Mar, video
    d40  Ben ends it without blame (sealed: the mentee, "workload")
    d41  Ben rematched: a new request
    d45  Nia invited for Ben's new request;  d46 accepts (6 days after the ending)
    d47  Ben's new pair paused (sickness);  d48 resumed
    d50  Asha's midpoint due; Asha answers "satisfied" 4
    d60  Ema's end of scheme due; Ema answers "satisfied" 2, Raj "worthwhile" yes
    d61  Ema's pair completes
    d70  Asha's pair completes
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from domain.actors import Actor
from services.application import Mentoring
from tests.support.clock import Clock, installed
from tests.support.mentoring import (
    ADMIN,
    COORDINATOR,
    fact,
    mentee_profile,
    mentor_profile,
    scheme_settings,
)

SURVEY = [
    {
        "id": "satisfied",
        "text": "Overall, how satisfied are you with the scheme?",
        "kind": "likert5",
        "audience": "mentee",
        "stages": ["midpoint", "end"],
    },
    {
        "id": "worthwhile",
        "text": "Was mentoring a worthwhile use of your time?",
        "kind": "yes_no",
        "audience": "mentor",
        "stages": ["end"],
    },
]
OBJECTIVES = [
    {
        "id": "uptake",
        "description": "Half of eligible trainees sign up",
        "metric": "uptake_rate",
        "comparison": ">=",
        "target": 0.5,
    },
    {
        "id": "met",
        "description": "Nine in ten of those signed up meet their mentor",
        "metric": "met_mentor_rate",
        "comparison": ">=",
        "target": 0.9,
    },
    {
        "id": "satisfaction",
        "description": "Four in five mentees satisfied",
        "metric": "survey:satisfied",
        "comparison": ">=",
        "target": 0.8,
    },
]


@dataclass
class ScriptedScheme:
    clock: Clock
    scheme_id: UUID = field(default_factory=lambda: UUID(int=0))
    mentors: dict[str, UUID] = field(default_factory=dict)
    mentees: dict[str, UUID] = field(default_factory=dict)
    relationships: dict[str, UUID] = field(default_factory=dict)
    position: int = 0

    def held(self, days: int) -> date:
        return (self.clock.start + timedelta(days=days)).date()


def play(app: Mentoring, clock: Clock) -> ScriptedScheme:
    """Record the whole script; returns the ids and the last position."""
    s = ScriptedScheme(clock)
    with installed(clock):
        _register(app, s)
        _match(app, s)
        _meet_and_stall(app, s)
        _end_and_rematch(app, s)
        _feedback_and_complete(app, s)
    return s


def _register(app: Mentoring, s: ScriptedScheme) -> None:
    s.clock.on_day(0)
    cohorts = [{"name": "2024", "eligible_count": 6}, {"name": "2025", "eligible_count": 4}]
    settings = scheme_settings(
        matching_model="mentee_choice", cohorts=cohorts, objectives=OBJECTIVES, survey=SURVEY
    )
    s.scheme_id = app.create_scheme(settings, ADMIN).aggregate.id
    app.assign_scheme_role(s.scheme_id, "coordinator", "Coordinator One", s.held(0), ADMIN)
    for name, capacity in (("mo", 2), ("nia", 1), ("raj", 1)):
        profile = mentor_profile(s.scheme_id, name=name.title(), capacity=capacity)
        s.mentors[name] = app.register_mentor(profile, ADMIN).aggregate.id
    people = {
        "asha": ("2024", True, {"sex": "female"}),
        "ben": ("2024", True, {"sex": "male"}),
        "cara": ("2024", False, None),
        "dev": ("2024", True, {"sex": "male"}),
        "ema": ("2025", True, {"sex": "female"}),
    }
    for name, (cohort, decided, demographics) in people.items():
        profile = mentee_profile(
            s.scheme_id,
            cohort,
            name=name.title(),
            specialty_decided=decided,
            demographics=demographics,
        )
        s.mentees[name] = app.register_mentee(profile, ADMIN).aggregate.id


def _match(app: Mentoring, s: ScriptedScheme) -> None:
    s.clock.on_day(1)
    for name in ("asha", "ben", "cara", "ema"):
        mentee = Actor("mentee", str(s.mentees[name]))
        saved = app.request_mentor(s.scheme_id, s.mentees[name], [], mentee)
        s.relationships[name] = saved.aggregate.id
    rel, mentors = s.relationships, s.mentors
    s.clock.on_day(2)
    app.invite_mentor(rel["asha"], mentors["mo"], COORDINATOR)
    app.invite_mentor(rel["ben"], mentors["nia"], COORDINATOR)
    s.clock.on_day(3)
    app.respond_to_invitation(rel["asha"], True, Actor("mentor", str(mentors["mo"])))
    s.clock.on_day(4)
    app.respond_to_invitation(rel["ben"], False, Actor("mentor", str(mentors["nia"])))
    s.clock.on_day(5)
    app.invite_mentor(rel["ben"], mentors["mo"], COORDINATOR)
    cohorts = [{"name": "2024", "eligible_count": 8}, {"name": "2025", "eligible_count": 4}]
    app.change_scheme(s.scheme_id, {"cohorts": cohorts}, ADMIN)
    s.clock.on_day(6)
    app.respond_to_invitation(rel["ben"], True, Actor("mentor", str(mentors["mo"])))
    s.clock.on_day(7)
    app.invite_mentor(rel["ema"], mentors["raj"], COORDINATOR)
    s.clock.on_day(8)
    app.respond_to_invitation(rel["ema"], True, Actor("mentor", str(mentors["raj"])))


def _meet_and_stall(app: Mentoring, s: ScriptedScheme) -> None:
    rel = s.relationships
    s.clock.on_day(10)
    app.log_meeting(rel["asha"], s.held(9), "in_person", 60, Actor("mentee", "asha"))
    app.record_agreement(rel["asha"], "monthly", True, True, Actor("mentee", "asha"))
    s.clock.on_day(12)
    app.flag_stalled(rel["cara"], "match_within", fact(app, rel["cara"], "match_within"))
    s.clock.on_day(13)
    app.escalate(rel["cara"], fact(app, rel["cara"], "escalate_after"))
    s.clock.on_day(20)
    app.log_meeting(rel["ben"], s.held(19), "video", 45, Actor("mentee", "ben"))
    s.clock.on_day(25)
    app.log_meeting(rel["ema"], s.held(25), "phone", 30, Actor("mentor", "raj"))
    s.clock.on_day(30)
    app.log_meeting(rel["asha"], s.held(30), "video", 60, Actor("mentee", "asha"))


def _end_and_rematch(app: Mentoring, s: ScriptedScheme) -> None:
    rel = s.relationships
    s.clock.on_day(40)
    app.end(rel["ben"], "no_blame", "workload", Actor("mentee", str(s.mentees["ben"])))
    s.clock.on_day(41)
    rel["ben_again"] = app.rematch(rel["ben"], COORDINATOR).aggregate.id
    s.clock.on_day(45)
    app.invite_mentor(rel["ben_again"], s.mentors["nia"], COORDINATOR)
    s.clock.on_day(46)
    app.respond_to_invitation(rel["ben_again"], True, Actor("mentor", str(s.mentors["nia"])))
    s.clock.on_day(47)
    app.pause(rel["ben_again"], "sickness", None, COORDINATOR)
    s.clock.on_day(48)
    app.resume(rel["ben_again"], COORDINATOR)


def _feedback_and_complete(app: Mentoring, s: ScriptedScheme) -> None:
    rel = s.relationships
    s.clock.on_day(50)
    app.mark_midpoint_due(rel["asha"], fact(app, rel["asha"], "midpoint"))
    app.give_feedback(rel["asha"], "midpoint", "mentee", {"satisfied": 4}, Actor("mentee", "asha"))
    s.clock.on_day(60)
    app.mark_end_due(rel["ema"], fact(app, rel["ema"], "planned_end"))
    app.give_feedback(rel["ema"], "end", "mentee", {"satisfied": 2}, Actor("mentee", "ema"))
    app.give_feedback(rel["ema"], "end", "mentor", {"worthwhile": True}, Actor("mentor", "raj"))
    s.clock.on_day(61)
    app.complete(rel["ema"], fact(app, rel["ema"], "planned_end"))
    s.clock.on_day(70)
    app.complete(rel["asha"], fact(app, rel["asha"], "planned_end"))
    s.position = app.recorder.max_notification_id() or 0
