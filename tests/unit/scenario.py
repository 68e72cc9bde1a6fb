"""Arrange relationships in every state on in-memory persistence (POPO)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.actors import Actor
from domain.relationship import Relationship
from services.application import Mentoring
from services.persistence import popo_env

STAFF = Actor("coordinator", "token-1")
SYSTEM = Actor.system("test_timer")
TODAY = datetime.now(UTC).date()

SURVEY = [
    {
        "id": "satisfied",
        "text": "Satisfied?",
        "kind": "likert5",
        "audience": "mentee",
        "stages": ["baseline", "midpoint", "end"],
    },
    {
        "id": "worthwhile",
        "text": "Worthwhile?",
        "kind": "yes_no",
        "audience": "mentor",
        "stages": ["end"],
    },
]


@dataclass
class Pairing:
    """One scheme with a mentee and two mentors, and the relationship under test.

    The scheme is `mentee_choice`, so that a decline leaves the request to the
    mentee (domain.policy) and each step is one move of the state machine. The
    timers' steps run the domain's own commands, which refuse what the state does
    not allow (the application's timer commands answer UNCHANGED instead:
    tests/unit/test_timer_commands.py)."""

    app: Mentoring
    scheme_id: UUID
    mentee_id: UUID
    mentor_id: UUID
    other_mentor_id: UUID
    relationship_id: UUID

    @classmethod
    def requested(cls, require_acceptance: bool = True, capacity: int = 3) -> "Pairing":
        app = Mentoring(env=popo_env())
        scheme = app.create_scheme(
            {
                "name": "Test scheme",
                "matching_model": "mentee_choice",
                "require_mentor_acceptance": require_acceptance,
                "cohorts": [{"name": "2026", "eligible_count": 10}],
                "survey": SURVEY,
            },
            STAFF,
        ).aggregate
        mentors = [
            app.register_mentor(
                {
                    "scheme_id": scheme.id,
                    "name": f"Dr Mentor {n}",
                    "email": f"m{n}@nhs.example",
                    "grade": "consultant",
                    "specialty": "cardiology",
                    "institution": "A",
                    "interests": ["research"],
                    "capacity": capacity,
                    "trained_on": None,
                },
                STAFF,
            ).aggregate
            for n in (1, 2)
        ]
        mentee = app.register_mentee(
            {
                "scheme_id": scheme.id,
                "cohort": "2026",
                "name": "Dr Mentee",
                "email": "mentee@nhs.example",
                "grade": "CT1",
                "specialty": "cardiology",
                "specialty_decided": True,
                "institution": "B",
                "interests": ["research"],
                "objectives": ["career"],
                "line_manager_ids": [],
                "demographics": None,
            },
            STAFF,
        ).aggregate
        relationship = app.request_mentor(scheme.id, mentee.id, [], STAFF).aggregate
        return cls(app, scheme.id, mentee.id, mentors[0].id, mentors[1].id, relationship.id)

    def another_mentee(self, **changes: object) -> UUID:
        """A second mentee in the scheme (a trainee in surgery elsewhere), registered."""
        profile = {
            "scheme_id": self.scheme_id,
            "cohort": "2026",
            "name": "Dr Two",
            "email": "two@nhs.example",
            "grade": "FY2",
            "specialty": "surgery",
            "specialty_decided": False,
            "institution": "C",
            "interests": [],
            "objectives": [],
            "line_manager_ids": [],
            "demographics": None,
        } | changes
        return self.app.register_mentee(profile, STAFF).aggregate.id

    @property
    def relationship(self):  # type: ignore[no-untyped-def]
        return self.app.get_relationship(self.relationship_id)

    # Steps a scenario is made of ------------------------------------------------

    def invite(self) -> None:
        self.app.invite_mentor(self.relationship_id, self.mentor_id, STAFF)

    def accept(self) -> None:
        self.app.respond_to_invitation(self.relationship_id, True, STAFF)

    def decline(self) -> None:
        self.app.respond_to_invitation(self.relationship_id, False, STAFF)

    def record(self, command: Callable[[Relationship], None]) -> None:
        """Run a domain command on the relationship and save it."""
        relationship = self.relationship
        command(relationship)
        self.app.save(relationship)

    def lapse(self) -> None:
        self.record(lambda r: r.lapse_invitation(SYSTEM))

    def withdraw(self) -> None:
        self.record(lambda r: r.withdraw_invitation("no_capacity", SYSTEM))

    def meet(self) -> None:
        self.app.log_meeting(self.relationship_id, TODAY, "video", 60, STAFF)

    def agree(self) -> None:
        self.app.record_agreement(self.relationship_id, "monthly", True, True, STAFF)

    def flag(self, reason: str) -> Callable[[], None]:
        return lambda: self.record(lambda r: r.flag_stalled(reason, SYSTEM))

    def escalate(self) -> None:
        self.record(lambda r: r.escalate(SYSTEM))

    def pause(self) -> None:
        self.app.pause(self.relationship_id, "parental_leave", None, STAFF)

    def resume(self) -> None:
        self.app.resume(self.relationship_id, STAFF)

    def extend(self) -> None:
        planned_end = self.relationship.planned_end or datetime.now(UTC)
        self.app.extend(self.relationship_id, planned_end + timedelta(days=90), STAFF)

    def midpoint_due(self) -> None:
        self.record(lambda r: r.mark_midpoint_due(SYSTEM))

    def end_due(self) -> None:
        self.record(lambda r: r.mark_end_due(SYSTEM))

    def end(self, kind: str = "no_blame") -> None:
        self.app.end(self.relationship_id, kind, "not_working", STAFF)

    def complete(self) -> None:
        self.app.end(self.relationship_id, "completed", None, SYSTEM)

    def rematch(self) -> None:
        self.app.rematch(self.relationship_id, STAFF)

    def party_erased(self) -> None:
        """What services.erasure records on each of an erased person's pairs."""
        relationship = self.relationship
        relationship.record_party_erased("mentee", Actor("admin", "token-0"))
        self.app.save(relationship)

    def feedback(self, stage: str) -> Callable[[], None]:
        return lambda: self.app.give_feedback(
            self.relationship_id, stage, "mentee", {"satisfied": 4}, STAFF
        )
