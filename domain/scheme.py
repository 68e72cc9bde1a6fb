"""A mentoring scheme: its rules, timers, cohorts, objectives, survey and who runs it."""

import re
from datetime import date, timedelta
from typing import Any, TypedDict

from eventsourcing.domain import Aggregate, event

from domain import bounds
from domain.actors import Actor
from domain.copying import CopiedForCommands
from domain.durations import parse_duration, parse_retention
from domain.errors import InvalidValue
from domain.matching_settings import validated_matching
from domain.privacy import Classified
from domain.timers import DEFAULT_TIMERS
from domain.vocabulary import (
    Comparison,
    MatchingModel,
    Party,
    QuestionKind,
    SchemeRole,
)


class Cohort(TypedDict):
    name: str
    eligible_count: int


class Objective(TypedDict):
    id: str
    description: str
    metric: str
    comparison: str
    target: float


class SurveyQuestion(TypedDict):
    id: str
    text: str
    kind: str
    audience: str
    stages: list[str]


class RoleTerm(TypedDict):
    role: str
    person: str
    from_: str
    until: str | None


SETTINGS = (
    "name",
    "matching_model",
    "require_mentor_acceptance",
    "require_mentor_training",
    "timers",
    "cohorts",
    "objectives",
    "survey",
    "matching",
    "retention_after_end",
)


# An objective's target is a rate, a count or a number of days: a larger one means
# nothing, and PostgreSQL's jsonb would write it back in another form (1e+16 as
# 10000000000000000, -0.0 as 0.0), which the audit log's hash chain cannot bear.
LARGEST_TARGET = 1e9


def checked_objective(objective: Objective) -> Objective:
    """The objective with its target as a float (-0.0 as 0.0). Raises InvalidValue
    for an unknown comparison, or a target not a finite number within LARGEST_TARGET
    either way."""
    Comparison(objective["comparison"])
    target = objective["target"]
    if not (
        isinstance(target, int | float)
        and not isinstance(target, bool)
        and -LARGEST_TARGET <= target <= LARGEST_TARGET
    ):
        raise InvalidValue(
            f"the target of objective {objective['id']!r} must be a number "
            f"from {-LARGEST_TARGET:g} to {LARGEST_TARGET:g}"
        )
    return objective | {"target": float(target) + 0.0}


def validated_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check the scheme settings that pydantic cannot: names and ids are unique,
    timers are known and parse, `planned_duration` is within
    domain.bounds.LONGEST_RELATIONSHIP, objectives are checked (checked_objective).
    Returns the settings with timers completed by defaults.

    Raises InvalidValue naming the first problem.
    """
    checked = dict(settings)
    if "matching_model" in checked:
        checked["matching_model"] = MatchingModel(checked["matching_model"]).value
    if "timers" in checked:
        unknown = set(checked["timers"]) - set(DEFAULT_TIMERS)
        if unknown:
            raise InvalidValue(f"unknown timers: {', '.join(sorted(unknown))}")
        for value in checked["timers"].values():
            parse_duration(value)
        if "planned_duration" in checked["timers"]:
            bounds.check_planned_duration(parse_duration(checked["timers"]["planned_duration"]))
    if checked.get("retention_after_end") is not None:
        parse_retention(checked["retention_after_end"])
    for key, field in (("cohorts", "name"), ("objectives", "id"), ("survey", "id")):
        names = [item[field] for item in checked.get(key, [])]
        if len(names) != len(set(names)):
            raise InvalidValue(f"{key} must have unique {field}s")
    if "objectives" in checked:
        checked["objectives"] = [checked_objective(o) for o in checked["objectives"]]
    for question in checked.get("survey", []):
        for stage in question["stages"]:
            survey_stage(stage)
        Party(question["audience"])
        QuestionKind(question["kind"])
    return checked


# A survey stage: baseline, midpoint, end (domain.vocabulary.FeedbackStage), or the
# name of a review a scheme runs at a date of its own (`review`, `ams_2006`).
STAGE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def survey_stage(stage: str) -> str:
    """The stage, checked: a FeedbackStage or a named review (STAGE_NAME). Raises
    InvalidValue."""
    if not isinstance(stage, str) or not STAGE_NAME.fullmatch(stage):
        raise InvalidValue(
            f"a survey stage is baseline, midpoint, end or the name of a review "
            f"(lower-case letters, digits and _), not {stage!r}"
        )
    return stage


def questions_for(survey: list[SurveyQuestion], stage: str, audience: str) -> list[SurveyQuestion]:
    """The scheme's questions asked of `audience` (mentee or mentor) at `stage`."""
    return [q for q in survey if q["audience"] == audience and stage in q["stages"]]


class Scheme(CopiedForCommands, Aggregate):
    """A scheme's settings change over time; each change is an event, so every past
    evaluation can say which rules were in force."""

    class Event(Aggregate.Event, Classified):
        """Every event of a scheme."""

    class Created(Aggregate.Created, Event):
        """`matching` is absent from schemes created before matching settings existed."""

        name: str
        matching_model: str
        require_mentor_acceptance: bool
        require_mentor_training: bool
        timers: dict[str, str]
        cohorts: list[Cohort]
        objectives: list[Objective]
        survey: list[SurveyQuestion]
        actor: Actor
        matching: dict[str, Any] | None = None
        retention_after_end: str | None = None

    class SettingsChanged(Event):
        changes: dict[str, Any]
        actor: Actor

    class RoleAssigned(Event):
        role: str
        person: str
        from_: str
        actor: Actor

    @event(Created)
    def __init__(
        self,
        name: str,
        matching_model: str,
        require_mentor_acceptance: bool,
        require_mentor_training: bool,
        timers: dict[str, str],
        cohorts: list[Cohort],
        objectives: list[Objective],
        survey: list[SurveyQuestion],
        actor: Actor,
        matching: dict[str, Any] | None = None,
        retention_after_end: str | None = None,
    ) -> None:
        self.name = name
        self.matching_model = matching_model
        self.require_mentor_acceptance = require_mentor_acceptance
        self.require_mentor_training = require_mentor_training
        self.timers = {**DEFAULT_TIMERS, **timers}
        self.cohorts = cohorts
        self.objectives = objectives
        self.survey = survey
        # Schemes created before matching settings existed match by the defaults.
        self.matching: dict[str, Any] = dict(validated_matching(matching or {}))
        self.roles: list[RoleTerm] = []
        # How long after their last relationship ended a person is kept (None: kept
        # until erased by hand). Read by services.erasure.expired_people.
        self.retention_after_end = retention_after_end

    @classmethod
    def create(cls, settings: dict[str, Any], actor: Actor) -> "Scheme":
        """Create a scheme; omitted timers take DEFAULT_TIMERS, omitted matching
        settings domain.matching_settings.DEFAULT_MATCHING. Raises InvalidValue."""
        checked = validated_settings(settings)
        return cls(
            name=checked["name"],
            matching_model=checked["matching_model"],
            require_mentor_acceptance=checked.get("require_mentor_acceptance", True),
            require_mentor_training=checked.get("require_mentor_training", False),
            timers=checked.get("timers", {}),
            cohorts=checked.get("cohorts", []),
            objectives=checked.get("objectives", []),
            survey=checked.get("survey", []),
            actor=actor,
            matching=dict(validated_matching(settings.get("matching", {}))),
            retention_after_end=checked.get("retention_after_end"),
        )

    retention_after_end: str | None = None  # for schemes saved before the setting

    def retention(self) -> timedelta | None:
        """How long a person is kept after their last relationship ended, if set."""
        if self.retention_after_end is None:
            return None
        return parse_retention(self.retention_after_end)

    def timer(self, name: str) -> timedelta:
        return parse_duration(self.timers[name])

    def has_cohort(self, name: str) -> bool:
        return any(cohort["name"] == name for cohort in self.cohorts)

    def change_settings(self, changes: dict[str, Any], actor: Actor) -> None:
        """Change some settings; timers and matching settings given are merged into the
        current ones (the event records the whole matching settings). Raises InvalidValue."""
        unknown = set(changes) - set(SETTINGS)
        if unknown:
            raise InvalidValue(f"not a scheme setting: {', '.join(sorted(unknown))}")
        checked = validated_settings(changes)
        if "matching" in checked:
            current = validated_matching(self.matching)
            checked["matching"] = dict(validated_matching(checked["matching"], current))
        if checked:
            self._settings_changed(changes=checked, actor=actor)

    @event(SettingsChanged)
    def _settings_changed(self, changes: dict[str, Any], actor: Actor) -> None:
        for key, value in changes.items():
            setattr(self, key, {**self.timers, **value} if key == "timers" else value)

    def assign_role(self, role: str, person: str, from_: date, today: date, actor: Actor) -> None:
        """Give a governance role to a person from a date (within domain.bounds'
        check_role_from of `today`); the previous holder's term ends that day. The
        record of every holder is kept. Raises InvalidValue."""
        SchemeRole(role)
        bounds.check_role_from(from_, today)
        if not person.strip():
            raise InvalidValue("person must not be blank")
        current = self.role_holder(role)
        if current is not None and date.fromisoformat(current["from_"]) > from_:
            raise InvalidValue(
                f"{role} is held from {current['from_']}; a new term cannot start before it"
            )
        self._role_assigned(role=role, person=person, from_=from_.isoformat(), actor=actor)

    @event(RoleAssigned)
    def _role_assigned(self, role: str, person: str, from_: str, actor: Actor) -> None:
        current = self.role_holder(role)
        if current is not None:
            current["until"] = from_
        self.roles.append(RoleTerm(role=role, person=person, from_=from_, until=None))

    def role_holder(self, role: str) -> RoleTerm | None:
        terms = [term for term in self.roles if term["role"] == role and term["until"] is None]
        return terms[-1] if terms else None
