"""Request bodies of API.md. Unknown fields are refused (422), and numbers and
booleans are strict, so `"capacity": "2"` is an error rather than a guess. Named
values are the domain's enums (domain.vocabulary), and limits the domain sets are
imported from where it sets them."""

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    create_model,
    field_validator,
    model_validator,
)

from domain.actors import Role
from domain.durations import parse_duration, parse_retention
from domain.errors import InvalidValue
from domain.matching_settings import (
    MAX_CAREER_GAP,
    MAX_HYBRID_K,
    MAX_WEIGHT,
    MIN_HYBRID_K,
    InstitutionRule,
)
from domain.relationship import MAX_MEETING_MINUTES
from domain.scheme import LARGEST_TARGET
from domain.timers import DEFAULT_TIMERS
from domain.vocabulary import (
    DeclineReason,
    EndKind,
    FeedbackStage,
    MatchingModel,
    MeetingMode,
    Party,
    PauseReason,
    SchemeRole,
)
from services.auth import DEFAULT_LIFETIME, MAX_LIFETIME, token_lifetime


def _duration(text: str) -> str:
    """A duration domain.durations accepts (its bound included), as given."""
    try:
        parse_duration(text)
    except InvalidValue as error:
        raise ValueError(str(error)) from None
    return text


Duration = Annotated[
    str, AfterValidator(_duration), Field(json_schema_extra={"format": "duration"})
]


def _retention(text: str) -> str:
    """A retention period domain.durations.parse_retention accepts, as given."""
    try:
        parse_retention(text)
    except InvalidValue as error:
        raise ValueError(str(error)) from None
    return text


Retention = Annotated[
    str,
    Field(max_length=40, json_schema_extra={"format": "duration"}),
    AfterValidator(_retention),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Label = Annotated[str, Field(min_length=1, max_length=100)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phrase = Annotated[str, Field(min_length=1, max_length=200)]
Weight = Annotated[StrictFloat, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False)]
GradeGap = Annotated[StrictInt, Field(ge=-MAX_CAREER_GAP, le=MAX_CAREER_GAP)]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Body(BaseModel):
    """A request body. Enum fields hold their plain string values, as events store them."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        """PostgreSQL text cannot hold a NUL character, and no name needs one."""
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


# A scheme's timer settings, one optional field per setting of domain.timers'
# table that the scheme keeps with its timers (pick_within is in MatchingIn).
if TYPE_CHECKING:
    TimersIn = Body
else:
    TimersIn = create_model(
        "TimersIn",
        __base__=Body,
        **{
            name: (Duration | None, Field(None, description=f"ISO 8601; default {default}"))
            for name, default in DEFAULT_TIMERS.items()
        },
    )


class CohortIn(Body):
    name: Label
    eligible_count: Annotated[StrictInt, Field(ge=0, le=1_000_000)]


class ObjectiveIn(Body):
    id: Slug
    description: Annotated[str, Field(max_length=1000)]
    metric: Annotated[str, Field(min_length=1, max_length=100)]
    comparison: Literal[">=", ">", "<=", "<", "="]
    target: Annotated[float, Field(allow_inf_nan=False, ge=-LARGEST_TARGET, le=LARGEST_TARGET)]


class QuestionIn(Body):
    id: Slug
    text: Annotated[str, Field(min_length=1, max_length=1000)]
    kind: Literal["likert5", "yes_no"]
    audience: Party
    stages: Annotated[
        list[Slug],
        Field(
            min_length=1,
            description="baseline, midpoint, end, or the name of a review (a survey round's stage)",
        ),
    ]


class WeightsIn(Body):
    """How much each part of a score counts; they need not sum to 1."""

    specialty: Weight | None = None
    interests: Weight | None = None
    career_stage: Weight | None = None
    institution: Weight | None = None
    preference: Weight | None = None


class MatchingIn(Body):
    """A scheme's matching settings (domain.matching_settings); what is left out
    keeps its current value, or the default."""

    weights: WeightsIn | None = None
    institution: InstitutionRule | None = None
    career_gap_min: GradeGap | None = None
    career_gap_max: GradeGap | None = None
    regions: Annotated[dict[Label, Label], Field(max_length=1000)] | None = None
    hybrid_k: Annotated[StrictInt, Field(ge=MIN_HYBRID_K, le=MAX_HYBRID_K)] | None = None
    pick_within: Duration | None = None


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The values that were given: None (a field left out, or sent as null) dropped,
    in nested dicts too."""
    return {
        key: given(value) if isinstance(value, dict) else value
        for key, value in values.items()
        if value is not None
    }


class SchemeIn(Body):
    name: Name
    matching_model: MatchingModel
    require_mentor_acceptance: StrictBool = True
    require_mentor_training: StrictBool = False
    timers: TimersIn = TimersIn()
    cohorts: Annotated[list[CohortIn], Field(max_length=100)] = []
    objectives: Annotated[list[ObjectiveIn], Field(max_length=100)] = []
    survey: Annotated[list[QuestionIn], Field(max_length=200)] = []
    matching: MatchingIn = MatchingIn()
    retention_after_end: Retention | None = None


class SchemePatch(Body):
    name: Name | None = None
    matching_model: MatchingModel | None = None
    require_mentor_acceptance: StrictBool | None = None
    require_mentor_training: StrictBool | None = None
    timers: TimersIn | None = None
    cohorts: Annotated[list[CohortIn], Field(max_length=100)] | None = None
    objectives: Annotated[list[ObjectiveIn], Field(max_length=100)] | None = None
    survey: Annotated[list[QuestionIn], Field(max_length=200)] | None = None
    matching: MatchingIn | None = None
    retention_after_end: Retention | None = None

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        """A setting left out is kept; a setting sent as null is a mistake."""
        if value is None:
            raise ValueError("a setting cannot be null; leave it out to keep it")
        return value


class RoleIn(Body):
    model_config = ConfigDict(extra="forbid", use_enum_values=True, populate_by_name=True)
    role: SchemeRole
    person: Name
    from_: date = Field(alias="from")


class MentorIn(Body):
    scheme_id: UUID
    name: Name
    email: Email
    grade: Label
    specialty: Label
    institution: Label
    interests: Annotated[list[Phrase], Field(max_length=50)] = []
    capacity: Annotated[StrictInt, Field(ge=0, le=20)] = 1
    trained_on: date | None = None


class MentorPatch(Body):
    capacity: Annotated[StrictInt, Field(ge=0, le=20)] | None = None
    available: StrictBool | None = None
    trained_on: date | None = None
    reminders: StrictBool | None = None


class MenteePatch(Body):
    reminders: StrictBool | None = None
    objectives: Annotated[list[Phrase], Field(max_length=20)] | None = None


class MenteeIn(Body):
    scheme_id: UUID
    cohort: Label
    name: Name
    email: Email
    grade: Label
    specialty: Label
    specialty_decided: StrictBool
    institution: Label
    interests: Annotated[list[Phrase], Field(max_length=50)] = []
    objectives: Annotated[list[Phrase], Field(max_length=20)] = []
    line_manager_ids: Annotated[list[UUID], Field(max_length=20)] = []
    demographics: Annotated[dict[Slug, Label], Field(max_length=20)] | None = None


class RelationshipIn(Body):
    scheme_id: UUID
    mentee_id: UUID
    preferred_mentor_ids: Annotated[list[UUID], Field(max_length=10)] = []


class InviteIn(Body):
    mentor_id: UUID


class RespondIn(Body):
    accept: StrictBool
    reason_category: DeclineReason | None = Field(
        None, description="why the mentor declines, if they choose to say; sealed"
    )


class MatchCohortIn(Body):
    dry_run: StrictBool = False


class MeetingIn(Body):
    held_on: date
    mode: MeetingMode
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=MAX_MEETING_MINUTES)]


class AgreementIn(Body):
    meeting_frequency: Annotated[str, Field(min_length=1, max_length=100)]
    ground_rules_agreed: StrictBool
    confidentiality_agreed: StrictBool


class PauseIn(Body):
    reason_category: PauseReason
    until: date | None = None


class ExtendIn(Body):
    until: AwareDatetime | date


class EndIn(Body):
    kind: EndKind
    reason_category: Slug | None = None


class FeedbackIn(Body):
    stage: FeedbackStage
    respondent: Party
    answers: Annotated[dict[Slug, StrictInt | StrictBool], Field(min_length=1, max_length=200)]


def _token_lifetime(text: str) -> str:
    try:
        token_lifetime(text)
    except InvalidValue as error:
        raise ValueError(str(error)) from None
    return text


TokenLifetime = Annotated[
    str,
    AfterValidator(_token_lifetime),
    Field(
        description=f"ISO 8601, at most P{MAX_LIFETIME.days}D (a year)",
        json_schema_extra={"format": "duration"},
    ),
]


class TokenIn(Body):
    role: Role
    label: Label
    subject_id: UUID | None = None
    scheme_ids: Annotated[list[UUID], Field(max_length=100)] = []
    expires_in: TokenLifetime = f"P{DEFAULT_LIFETIME.days}D"


def end_of(until: datetime | date) -> datetime:
    """A date given for a planned end means the start of that day, in UTC."""
    if isinstance(until, datetime):
        return until
    return datetime(until.year, until.month, until.day, tzinfo=UTC)


class SurveyRoundIn(Body):
    name: Label
    stage: Annotated[
        Slug, Field(description="baseline, midpoint, end, or the name of a review, as the survey")
    ]
    cohort: Label | None = None
    audience: Literal["mentee", "mentor", "both"]
    opens_on: date = Field(description="the first UTC day the round takes answers")
    closes_on: date = Field(description="the last UTC day the round takes answers")


class SurveyResponseIn(Body):
    answers: Annotated[dict[Slug, StrictInt | StrictBool], Field(min_length=1, max_length=200)]
