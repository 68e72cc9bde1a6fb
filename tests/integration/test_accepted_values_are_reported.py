"""Whatever the service accepts, however extreme, can be reported: random sequences
of commands with values at and beyond their bounds (dates of the year 1 and 9999,
the longest timers, every script, the longest names, the largest capacities) go
through the request schemas and the application as the API's routes call them;
what is accepted is then applied by every projection, shown by every view and
exported by every report, as JSON and as CSV, and none of them fails.

A value the service records but cannot report (issue 9: an extension to
9999-12-31T23:59:59-14:00, which is in the year 10000 in UTC) stops a projection
for good; this test finds any such value a bound lets through.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypeVar
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from domain.actors import Actor
from domain.bounds import EARLIEST_DATE, LONGEST_PAUSE, LONGEST_RELATIONSHIP, ROLE_NOTICE
from domain.consequences import counted_from
from domain.durations import LONGEST_DURATION
from domain.errors import DomainError
from domain.relationship import MAX_MEETING_MINUTES
from domain.scheme import LARGEST_TARGET
from domain.timers import DEFAULT_TIMERS
from domain.vocabulary import EndKind, MatchingModel, MeetingMode, PauseReason, SchemeRole
from services import bootstrap
from services.api.app import create_app
from services.api.schemas import (
    AgreementIn,
    EndIn,
    ExtendIn,
    FeedbackIn,
    MeetingIn,
    MenteeIn,
    MentorIn,
    MentorPatch,
    PauseIn,
    RoleIn,
    SchemeIn,
    end_of,
)
from services.application import Mentoring
from services.errors import Conflict, NotFound
from services.runtime import Runtime
from tests.support.databases import scratch_database
from tests.support.mentoring import project
from tests.support.settings import settings_for

pytestmark = pytest.mark.postgres

ADMIN_TOKEN = "accepted-values-admin"
STAFF = Actor("coordinator", "accepted-values")
TODAY = datetime.now(UTC).date()
OFFSETS = (UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14)))
END_OF_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))
START_OF_TIME = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
SURVEY = [
    {"id": "satisfied", "text": "Satisfied?", "kind": "likert5", "audience": "mentee",
     "stages": ["baseline", "midpoint", "end"]},
    {"id": "worthwhile", "text": "Worthwhile?", "kind": "yes_no", "audience": "mentor",
     "stages": ["end"]},
]  # fmt: skip
EMAILS = (
    "mentor@example.nhs.uk",
    "ü" * 60 + "@" + "ß" * 60 + ".uk",
    "a" * 242 + "@example.uk",
)
SLUG = r"[a-z][a-z0-9_]{0,63}"
TARGETS = st.one_of(
    st.sampled_from([0.0, -0.0, 5e-324, LARGEST_TARGET, -LARGEST_TARGET, 1e16, 1e300]),
    st.floats(-2 * LARGEST_TARGET, 2 * LARGEST_TARGET),
)
PAIRED = ("invite", "accept", "meet")
TIMERS = ("PT1S", "P365D", f"P{LONGEST_DURATION.days}D")
DURATIONS = (
    "PT1S",
    "P365D",
    f"P{LONGEST_RELATIONSHIP.days}D",
    f"P{LONGEST_RELATIONSHIP.days + 1}D",
    f"P{LONGEST_DURATION.days}D",
    "P99999999999D",
)


# Values ------------------------------------------------------------------------------


def texts(longest: int) -> st.SearchStrategy[str]:
    """Text in any script, often as long as allowed, and a formula for spreadsheets."""
    return st.one_of(
        st.text(
            st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
            min_size=1,
            max_size=longest,
        ),
        st.sampled_from(["x", "é", "𠜎", "مرشد", "=cmd|' /C calc'!A0"]).map(
            lambda unit: (unit * longest)[:longest]
        ),
    )


def days(*around: date) -> st.SearchStrategy[date]:
    """Any date, often the first and last there are, or one at or beside a bound."""
    near = [day + timedelta(days=step) for day in around for step in (-1, 0, 1)]
    return st.one_of(st.sampled_from([date.min, date.max, *near]), st.dates())


def moments(*around: datetime) -> st.SearchStrategy[datetime | date]:
    """Any aware time or date, often at the ends of time or beside a bound, in the
    furthest offsets from UTC."""
    near = [
        (moment + timedelta(seconds=step)).astimezone(offset)
        for moment in around
        for step in (-1, 0, 1)
        for offset in OFFSETS
    ]
    return st.one_of(
        st.just(END_OF_TIME),
        st.just(START_OF_TIME),
        st.sampled_from(near),
        st.datetimes(timezones=st.sampled_from(OFFSETS)),
        days(*(moment.date() for moment in around)),
    )


T = TypeVar("T")


def attempt(command: Callable[[], T]) -> T | None:
    """Run a command as the API would; None when it is refused as bad input (the
    schema's or the domain's), an invalid transition, an unknown id or a conflict."""
    try:
        return command()
    except (ValueError, DomainError, NotFound, Conflict):
        return None


# One example: a scheme, its people and their relationships ----------------------------


class World:
    """Commands with drawn values, each validated by its request schema and run as
    its route runs it."""

    def __init__(self, app: Mentoring, data: st.DataObject) -> None:
        self.app = app
        self.draw = data.draw
        self.scheme_id = UUID(int=0)
        self.cohorts: list[str] = []
        self.mentor_ids: list[UUID] = []
        self.relationship_ids: list[UUID] = []

    def create_scheme(self) -> bool:
        self.cohorts = self.draw(st.lists(texts(100), min_size=1, max_size=3, unique=True))
        timers = {name: self.draw(st.sampled_from(TIMERS)) for name in DEFAULT_TIMERS}
        timers["planned_duration"] = self.draw(st.sampled_from(DURATIONS))
        body: dict[str, Any] = {
            "name": self.draw(texts(200)),
            "matching_model": self.draw(st.sampled_from([m.value for m in MatchingModel])),
            "require_mentor_acceptance": self.draw(st.booleans()),
            "timers": timers,
            "cohorts": [
                {"name": name, "eligible_count": self.draw(st.sampled_from([0, 1, 1_000_000]))}
                for name in self.cohorts
            ],
            "objectives": [
                {
                    "id": "uptake",
                    "description": self.draw(texts(1000)),
                    "metric": "uptake_rate",
                    "comparison": ">=",
                    "target": self.draw(TARGETS),
                }
            ],
            "survey": SURVEY,
        }
        # As drawn, else with the default timers and no objectives.
        for scheme in (body, body | {"timers": {}, "objectives": []}):
            saved = attempt(
                lambda scheme=scheme: self.app.create_scheme(  # type: ignore[misc]
                    SchemeIn.model_validate(scheme).model_dump(exclude_none=True), STAFF
                )
            )
            if saved is not None:
                self.scheme_id = saved.aggregate.id
                return True
        return False

    def register_mentor(self) -> None:
        body: dict[str, Any] = {
            "scheme_id": self.scheme_id,
            "name": self.draw(texts(200)),
            "email": self.draw(st.sampled_from(EMAILS)),
            "grade": self.draw(texts(100)),
            "specialty": self.draw(texts(100)),
            "institution": self.draw(texts(100)),
            "interests": self.draw(st.lists(texts(200), max_size=3)),
            "capacity": self.draw(st.sampled_from([0, 1, 20, 21])),
            "trained_on": self.draw(st.none() | days(TODAY, EARLIEST_DATE)),
        }
        # As drawn, else with room and no training date, so that pairs can form.
        for profile in (body, body | {"capacity": 20, "trained_on": None}):
            saved = attempt(
                lambda profile=profile: self.app.register_mentor(  # type: ignore[misc]
                    MentorIn.model_validate(profile).model_dump(), STAFF
                )
            )
            if saved is not None:
                self.mentor_ids.append(saved.aggregate.id)
                return

    def register_mentee(self) -> None:
        demographics = st.dictionaries(st.from_regex(SLUG, fullmatch=True), texts(100), max_size=3)
        body: dict[str, Any] = {
            "scheme_id": self.scheme_id,
            "cohort": self.draw(st.sampled_from(self.cohorts)),
            "name": self.draw(texts(200)),
            "email": self.draw(st.sampled_from(EMAILS)),
            "grade": self.draw(texts(100)),
            "specialty": self.draw(texts(100)),
            "specialty_decided": self.draw(st.booleans()),
            "institution": self.draw(texts(100)),
            "interests": self.draw(st.lists(texts(200), max_size=3)),
            "objectives": self.draw(st.lists(texts(200), max_size=3)),
            "demographics": self.draw(st.none() | demographics),
        }
        saved = attempt(
            lambda: self.app.register_mentee(MenteeIn.model_validate(body).model_dump(), STAFF)
        )
        if saved is None:
            return
        mentee_id = saved.aggregate.id
        requested = attempt(lambda: self.app.request_mentor(self.scheme_id, mentee_id, [], STAFF))
        if requested is not None:
            self.relationship_ids.append(requested.aggregate.id)

    def step(self, name: str, relationship_id: UUID) -> UUID:
        """Take one step; returns the relationship to go on with (a rematch's new one)."""
        app, draw = self.app, self.draw
        relationship = app.get_relationship(relationship_id)
        body: dict[str, Any]
        if name == "invite" and self.mentor_ids:
            mentor_id = draw(st.sampled_from(self.mentor_ids))
            attempt(lambda: app.invite_mentor(relationship_id, mentor_id, STAFF))
        elif name in ("accept", "decline"):
            attempt(lambda: app.respond_to_invitation(relationship_id, name == "accept", STAFF))
        elif name == "meet":
            matched_on = (relationship.matched_at or datetime.now(UTC)).date()
            body = {
                "held_on": draw(st.one_of(st.just(TODAY), st.just(TODAY), days(matched_on))),
                "mode": draw(st.sampled_from([m.value for m in MeetingMode])),
                "duration_minutes": draw(st.sampled_from([1, MAX_MEETING_MINUTES])),
            }
            attempt(lambda: self._meet(relationship_id, MeetingIn.model_validate(body)))
        elif name == "agree":
            body = {
                "meeting_frequency": draw(texts(100)),
                "ground_rules_agreed": draw(st.booleans()),
                "confidentiality_agreed": draw(st.booleans()),
            }
            attempt(lambda: self._agree(relationship_id, AgreementIn.model_validate(body)))
        elif name == "pause":
            body = {
                "reason_category": draw(st.sampled_from([r.value for r in PauseReason])),
                "until": draw(st.none() | days(TODAY, TODAY + LONGEST_PAUSE)),
            }
            attempt(lambda: self._pause(relationship_id, PauseIn.model_validate(body)))
        elif name == "resume":
            attempt(lambda: app.resume(relationship_id, STAFF))
        elif name == "extend":
            first = relationship.first_meeting_at or datetime.now(UTC)
            body = {"until": draw(moments(first + LONGEST_RELATIONSHIP, first + timedelta(1)))}
            attempt(lambda: self._extend(relationship_id, ExtendIn.model_validate(body)))
        elif name in TIMER_STEPS:
            self._fire(relationship_id, name)
        elif name == "end":
            body = {
                "kind": draw(st.sampled_from([k.value for k in EndKind])),
                "reason_category": draw(st.none() | st.from_regex(SLUG, fullmatch=True)),
            }
            attempt(lambda: self._end(relationship_id, EndIn.model_validate(body)))
        elif name == "rematch":
            new = attempt(lambda: app.rematch(relationship_id, STAFF))
            if new is not None:
                self.relationship_ids.append(new.aggregate.id)
                return new.aggregate.id
        elif name == "feedback":
            self._feedback(relationship_id)
        elif name == "change mentor" and self.mentor_ids:
            self._change_mentor(draw(st.sampled_from(self.mentor_ids)))
        elif name == "assign role":
            body = {
                "role": draw(st.sampled_from([r.value for r in SchemeRole])),
                "person": draw(texts(200)),
                "from": draw(days(TODAY + ROLE_NOTICE, EARLIEST_DATE, TODAY)),
            }
            attempt(lambda: self._assign_role(RoleIn.model_validate(body)))
        elif name == "change scheme":
            timers = {"planned_duration": draw(st.sampled_from(DURATIONS))}
            attempt(lambda: app.change_scheme(self.scheme_id, {"timers": timers}, STAFF))
        return relationship_id

    # The routes' calls, from a validated body ------------------------------------------

    def _meet(self, relationship_id: UUID, body: MeetingIn) -> object:
        return self.app.log_meeting(
            relationship_id, body.held_on, body.mode, body.duration_minutes, STAFF
        )

    def _agree(self, relationship_id: UUID, body: AgreementIn) -> object:
        return self.app.record_agreement(
            relationship_id,
            body.meeting_frequency,
            body.ground_rules_agreed,
            body.confidentiality_agreed,
            STAFF,
        )

    def _pause(self, relationship_id: UUID, body: PauseIn) -> object:
        return self.app.pause(relationship_id, body.reason_category, body.until, STAFF)

    def _extend(self, relationship_id: UUID, body: ExtendIn) -> object:
        return self.app.extend(relationship_id, end_of(body.until), STAFF)

    def _end(self, relationship_id: UUID, body: EndIn) -> object:
        return self.app.end(relationship_id, body.kind, body.reason_category, STAFF)

    def _assign_role(self, body: RoleIn) -> object:
        return self.app.assign_scheme_role(
            self.scheme_id, body.role, body.person, body.from_, STAFF
        )

    def _change_mentor(self, mentor_id: UUID) -> None:
        body: dict[str, Any] = {
            "capacity": self.draw(st.none() | st.sampled_from([0, 20, 21])),
            "available": self.draw(st.none() | st.booleans()),
            "trained_on": self.draw(st.none() | days(TODAY, EARLIEST_DATE)),
        }
        attempt(
            lambda: self.app.update_mentor(
                mentor_id, STAFF, **MentorPatch.model_validate(body).model_dump(exclude_none=True)
            )
        )

    def _feedback(self, relationship_id: UUID) -> None:
        stage = self.draw(st.sampled_from(["baseline", "midpoint", "end"]))
        respondent = self.draw(st.sampled_from(["mentee", "mentor"]))
        answers: dict[str, Any] = (
            {"satisfied": self.draw(st.integers(1, 5))}
            if respondent == "mentee"
            else {"worthwhile": self.draw(st.booleans())}
        )
        body = FeedbackIn.model_validate(
            {"stage": stage, "respondent": respondent, "answers": answers}
        )
        attempt(
            lambda: self.app.give_feedback(
                relationship_id, body.stage, body.respondent, dict(body.answers), STAFF
            )
        )

    def _fire(self, relationship_id: UUID, step: str) -> None:
        """Fire a timer's command as the workflow would once it is due."""
        timer, command = TIMER_STEPS[step]
        basis = counted_from(self.app.get_relationship(relationship_id), timer)
        if basis is not None:
            attempt(lambda: command(self.app, relationship_id, basis))


TimerCommand = Callable[[Mentoring, UUID, datetime], object]
TIMER_STEPS: dict[str, tuple[str, TimerCommand]] = {
    "flag unmatched": (
        "match_within",
        lambda app, r, basis: app.flag_stalled(r, "match_within", basis),
    ),
    "flag no first meeting": (
        "first_meeting_within",
        lambda app, r, basis: app.flag_stalled(r, "first_meeting_within", basis),
    ),
    "flag overdue": (
        "meeting_cadence",
        lambda app, r, basis: app.flag_stalled(r, "meeting_cadence", basis),
    ),
    "lapse": ("mentor_response_within", Mentoring.lapse_invitation),
    "escalate": ("escalate_after", Mentoring.escalate),
    "midpoint due": ("midpoint", Mentoring.mark_midpoint_due),
    "end due": ("planned_end", Mentoring.mark_end_due),
    "complete": ("planned_end", Mentoring.complete),
}
STEPS = (
    "invite", "accept", "decline", "meet", "agree", "pause", "resume", "extend", "end",
    "rematch", "feedback", "change mentor", "assign role", "change scheme", *TIMER_STEPS,
)  # fmt: skip


# What is reported --------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """The API's runtime on a database of its own, the API as the admin, and the
    headers of an auditor's requests (the audit trail and the access log)."""

    url: str
    runtime: Runtime
    client: TestClient
    auditor: dict[str, str]


@pytest.fixture(scope="module")
def service(postgres_server: str) -> Iterator[Service]:
    """No projector runs: the test brings the projections up to date itself."""
    with scratch_database(postgres_server) as url:
        runtime = bootstrap.build_runtime(settings_for(url, MENTORING_ADMIN_TOKEN=ADMIN_TOKEN))
        try:
            with TestClient(create_app(runtime)) as client:
                client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                auditor = runtime.issue_token("auditor", "accepted values").secret
                yield Service(url, runtime, client, {"Authorization": f"Bearer {auditor}"})
        finally:
            runtime.close()


def parsed(response: Any) -> Any:
    """The body of a 200 answer, JSON or CSV, read back."""
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/csv"):
        return list(csv.DictReader(io.StringIO(response.text)))
    return response.json()


def check_reported(service: Service, world: World) -> None:
    """Every view and report of the world's records answers 200, and reads back."""
    client, scheme = service.client, world.scheme_id
    for path in (
        f"/v1/schemes/{scheme}",
        f"/v1/relationships?scheme_id={scheme}",
        f"/v1/mentors?scheme_id={scheme}",
        *(f"/v1/mentors/{mentor_id}" for mentor_id in world.mentor_ids),
        *(f"/v1/relationships/{r}" for r in world.relationship_ids),
        *(f"/v1/relationships/{r}/events" for r in world.relationship_ids),
        *(f"/v1/mentees/{world.app.get_relationship(r).mentee_id}" for r in world.relationship_ids),
    ):
        parsed(client.get(path))
    reports: list[tuple[str, dict[str, Any]]] = [
        ("stalled", {"scheme_id": scheme}),
        ("evaluation", {"scheme_id": scheme}),
        *(("evaluation", {"scheme_id": scheme, "cohort": c}) for c in world.cohorts),
        ("mentor-load", {"scheme_id": scheme}),
        ("equity", {"scheme_id": scheme}),
        ("counts", {"scheme_id": scheme}),
    ]
    audit = [("audit", {"limit": 1000}), ("access-log", {"limit": 1000})]
    for (report, params), who in [(r, {}) for r in reports] + [(r, service.auditor) for r in audit]:
        for accept in ("application/json", "text/csv"):
            headers = who | {"Accept": accept}
            parsed(client.get(f"/v1/reports/{report}", params=params, headers=headers))
    verified = parsed(client.get("/v1/reports/audit/verify", headers=service.auditor))
    assert verified["ok"], verified


@settings(
    max_examples=25,
    # The same examples on every run (a fixed seed), and no shrinking: a failing
    # example is reported as drawn, in seconds rather than minutes.
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_whatever_is_accepted_is_projected_shown_and_exported(
    service: Service, data: st.DataObject
) -> None:
    world = World(service.runtime.mentoring, data)
    if not world.create_scheme():
        return
    for _ in range(data.draw(st.integers(1, 3))):
        world.register_mentor()
    for _ in range(data.draw(st.integers(1, 2))):
        world.register_mentee()
    for relationship_id in list(world.relationship_ids):
        # Often paired and met first, so that the steps of an active pair are taken.
        start = data.draw(st.sampled_from([(), PAIRED, (*PAIRED, "extend", "extend")]))
        for name in (*start, *data.draw(st.lists(st.sampled_from(STEPS), max_size=10))):
            relationship_id = world.step(name, relationship_id)
    head = service.runtime.mentoring.recorder.max_notification_id() or 0
    positions = project(service.url, batch_size=50)
    assert positions == dict.fromkeys(positions, head)
    check_reported(service, world)
