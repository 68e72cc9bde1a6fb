"""What each route answers, as pydantic models: the shapes `/openapi.json` publishes.

Routes build plain JSON-ready dicts (services.views, projections.queries) and FastAPI
checks each against its route's model on the way out. The models refuse keys they
do not declare, so a field added to a view but not to its model fails the tests
(a 500) instead of being dropped silently. Times and dates are declared as the
ISO 8601 strings the views make, not parsed: pydantic would write UTC back as `Z`
and change the answer. Named values are the domain's enums.

Reports answer with a response of their own (JSON or CSV), which FastAPI passes on
unchecked: their models describe the JSON, and tests/e2e/test_report_answers.py
holds the served reports to them.
"""

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from domain.actors import Role
from domain.matching import MatchBasis
from domain.matching_settings import InstitutionRule
from domain.vocabulary import (
    Comparison,
    EndKind,
    MatchingModel,
    Party,
    PauseReason,
    QuestionKind,
    SchemeRole,
    StallReason,
    State,
)
from services.auth import TokenStatus
from services.staff import StaffRole

Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]
Duration = Annotated[str, Field(json_schema_extra={"format": "duration"})]
Position = Annotated[
    int,
    Field(
        description="the notification id of the last event saved: wait on it to read your "
        "write in a report"
    ),
]


class Answer(BaseModel):
    """An answer; keys it does not declare are an error."""

    model_config = ConfigDict(extra="forbid")


# Operations -----------------------------------------------------------------------


class Health(Answer):
    """The process is up."""

    status: Literal["ok"]


class Readiness(Answer):
    """Whether each service the API needs answers, and no projection is stalled."""

    ready: bool
    checks: Annotated[
        dict[str, bool],
        Field(description="`database`, `projections` (none stalled), and `temporal` if set"),
    ]
    stalled: Annotated[list[str], Field(description="the projections that cannot go on")]


# Tokens ---------------------------------------------------------------------------


class IssuedToken(Answer):
    """A new bearer token."""

    id: UUID
    token: Annotated[str, Field(description="the bearer token; shown this once only")]
    expires_at: Timestamp
    role: Role
    label: str


class ListedToken(Answer):
    """An issued token, without its secret: whom it is for, and its life so far."""

    id: UUID
    role: Role
    label: str
    subject_id: UUID | None
    scheme_ids: list[UUID]
    created_at: Timestamp
    expires_at: Timestamp
    last_used_at: Annotated[
        Timestamp | None, Field(description="to the minute: recorded at most once a minute")
    ]
    revoked_at: Timestamp | None
    status: TokenStatus


# Staff accounts -------------------------------------------------------------------


class AddedStaffAccount(Answer):
    """A new staff account."""

    id: UUID


class StaffAccount(Answer):
    """A staff account: who signs in to the pages, in which role, for which schemes
    (a coordinator's; none for the other roles, which cover every scheme)."""

    id: UUID
    name: str
    email: str
    role: StaffRole
    scheme_ids: list[UUID]
    active: Annotated[bool, Field(description="false: it cannot sign in, its sessions ended")]
    created_at: Timestamp
    updated_at: Timestamp


# Schemes --------------------------------------------------------------------------


class Cohort(Answer):
    """A cohort, with how many doctors in it may take part."""

    name: str
    eligible_count: int


class Objective(Answer):
    """A SMART objective: the metric it measures, and the target it is held to."""

    id: str
    description: str
    metric: str
    comparison: Comparison
    target: float


class Question(Answer):
    """A survey question: how it is answered, whom it asks, and at which stages."""

    id: str
    text: str
    kind: QuestionKind
    audience: Party
    stages: list[str]


class Matching(Answer):
    """The scheme's matching settings (domain.matching_settings)."""

    weights: Annotated[dict[str, float], Field(description="the weight of each score part")]
    institution: InstitutionRule
    career_gap_min: int
    career_gap_max: int
    regions: Annotated[dict[str, str], Field(description="institution -> region")]
    hybrid_k: int
    pick_within: Duration


class RoleTerm(Answer):
    """A term of a governance role; `until` is null while it is held."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    role: SchemeRole
    person: str
    from_: Day = Field(alias="from")
    until: Day | None


class Scheme(Answer):
    """A scheme's settings, with every timer (defaults filled in) and who runs it."""

    id: UUID
    name: str
    matching_model: MatchingModel
    require_mentor_acceptance: bool
    require_mentor_training: bool
    timers: Annotated[dict[str, Duration], Field(description="every timer of the scheme")]
    cohorts: list[Cohort]
    objectives: list[Objective]
    survey: list[Question]
    matching: Matching
    retention_after_end: Annotated[
        str | None,
        Field(
            json_schema_extra={"format": "duration"},
            description="how long people are kept after their last relationship ended",
        ),
    ] = None
    roles: list[RoleTerm]
    created_at: Timestamp
    version: int


class SavedScheme(Scheme):
    """The scheme as a command left it."""

    position: Position


class Proposal(Answer):
    """A pairing a cohort run proposes (and, unless a dry run, invites)."""

    relationship_id: UUID
    mentor_id: UUID
    name: str
    score: float
    reasons: list[str]


class Unpaired(Answer):
    """A request a cohort run left without a mentor, with a stable reason code."""

    relationship_id: UUID
    reason: str
    reasons: list[str]


class CohortRun(Answer):
    """A cohort run: the optimal pairings of the scheme's waiting requests."""

    dry_run: bool
    proposals: list[Proposal]
    unmatched: list[Unpaired]


# People ---------------------------------------------------------------------------


class Mentor(Answer):
    """A mentor's profile. `email`, `capacity`, `load` and `version` are given to staff,
    auditors and the mentor themselves only, and left out for everyone else. `has_room`
    counts invitations awaiting an answer as places taken."""

    id: UUID
    scheme_id: UUID
    name: str
    grade: str
    specialty: str
    institution: str
    interests: list[str]
    available: bool
    has_room: bool
    trained_on: Day | None
    email: str | SkipJsonSchema[None] = None
    capacity: int | SkipJsonSchema[None] = None
    load: int | SkipJsonSchema[None] = None
    version: int | SkipJsonSchema[None] = None


class SavedMentor(Mentor):
    """The mentor as a command left it."""

    position: Position


class Mentee(Answer):
    """A mentee's record. `demographics` (special-category data) is given to admins,
    auditors and the mentee themselves only, and left out for everyone else."""

    id: UUID
    scheme_id: UUID
    cohort: str
    name: str
    email: str
    grade: str
    specialty: str
    specialty_decided: bool
    institution: str
    interests: list[str]
    objectives: list[str]
    line_manager_ids: list[UUID]
    open_relationship_id: UUID | None
    previous_mentor_ids: list[UUID]
    reminders: bool
    version: int
    demographics: dict[str, str] | None = None


class SavedMentee(Mentee):
    """The mentee as a command left it."""

    position: Position


# Relationships --------------------------------------------------------------------


class Agreement(Answer):
    """The mentoring contract."""

    meeting_frequency: str
    ground_rules_agreed: bool
    confidentiality_agreed: bool
    recorded_at: Timestamp | None


class ScorePart(Answer):
    """One named part of a score; `value` (0..1) is null where the part does not apply."""

    name: str
    weight: float
    value: float | None
    reason: str


class Preferences(Answer):
    """The scheme's matching preferences in force when the pair was made."""

    institution: InstitutionRule
    career_gap_min: int
    career_gap_max: int


class Rationale(Answer):
    """Why a pair was made: the rules in force and the score (domain.matching.rationale)."""

    algorithm_version: str
    basis: MatchBasis
    weights: dict[str, float]
    preferences: Preferences
    score: float
    parts: list[ScorePart]


class Candidate(Answer):
    """A ranked mentor: the score (0..1) and a sentence for each of its parts."""

    mentor_id: UUID
    name: str
    score: float
    reasons: list[str]


class Relationship(Answer):
    """One mentor-mentee pairing. `stalled`, `escalated`, `paused`, `midpoint_due` and
    `end_due` are flags orthogonal to `state`."""

    id: UUID
    scheme_id: UUID
    mentee_id: UUID
    mentor_id: UUID | None
    state: State
    stalled: bool
    stall_reason: StallReason | None
    stalled_since: Timestamp | None
    escalated: bool
    paused: bool
    pause_reason: PauseReason | None
    paused_until: Day | None
    requested_at: Timestamp
    invited_at: Timestamp | None
    matched_at: Timestamp | None
    first_meeting_at: Timestamp | None
    last_meeting_at: Timestamp | None
    last_meeting_on: Day | None
    meetings_count: int
    agreement: Agreement | None
    midpoint_due: bool
    end_due: bool
    planned_end: Timestamp | None
    ended_at: Timestamp | None
    end_kind: EndKind | None
    rematch_of: UUID | None
    rematched_to: UUID | None
    preferred_mentor_ids: list[UUID]
    rationale: Rationale | None
    version: int


class SavedRelationship(Relationship):
    """The relationship as a command left it (for a rematch, the new one)."""

    position: Position


class RelationshipPage(Answer):
    """The relationships the caller may see, oldest first."""

    items: list[Relationship]
    next_cursor: Annotated[int | None, Field(description="pass as `cursor` for the next page")]


class Actor(Answer):
    """Who caused an event: a role and an id, or `system` and the timer that fired."""

    role: str
    id: str


class Event(Answer):
    """One event of a history. Sealed fields are left out of `details` (and a sealed
    `actor` is null) unless the caller is an auditor; `sealed` says so."""

    version: int
    type: str
    at: Timestamp
    actor: Actor | None
    details: dict[str, Any]
    sealed: bool


# Reports --------------------------------------------------------------------------


class StalledPair(Answer):
    """An open stall: since when, and whether it has been escalated."""

    relationship_id: UUID
    scheme_id: UUID
    mentee_id: UUID
    mentor_id: UUID | None
    state: State
    reason: StallReason
    since: Timestamp
    escalated: bool
    escalated_at: Timestamp | None


class Metric(Answer):
    """A named metric; rates are 0..1. Survey metrics (`survey:<question_id>`) have a
    stage and an audience."""

    metric: str
    stage: str | None
    audience: Party | None
    numerator: float | None
    denominator: float | None
    value: float | None


class ObjectiveResult(Answer):
    """A SMART objective, target against actual."""

    id: str
    description: str
    metric: str
    comparison: str
    target: float
    actual: float | None
    met: bool | None


class MetMentorMetric(Answer):
    """A survey metric counted over the answers of those who had (`met_mentor`) or had
    not met their mentor (a mentor: a mentee) when they answered."""

    metric: str
    stage: str
    audience: Party
    met_mentor: bool
    numerator: float
    denominator: float
    value: float | None


class Evaluation(Answer):
    """A scheme's evaluation (one cohort's, or all cohorts' when `cohort` is null).
    `survey_by_met_mentor` splits each survey metric by whether the respondent had
    met their mentor."""

    scheme_id: UUID
    cohort: str | None
    metrics: list[Metric]
    objectives: list[ObjectiveResult]
    survey_by_met_mentor: list[MetMentorMetric] = []


class MentorLoad(Answer):
    """A mentor's places: capacity, current mentees, and invitations by outcome."""

    mentor_id: UUID
    scheme_id: UUID
    grade: str
    specialty: str
    institution: str
    capacity: int
    available: bool
    trained_on: Day | None
    current_mentees: int
    free_places: int
    open_invitations: int
    invitations_accepted: int
    invitations_declined: int
    invitations_lapsed: int
    invitations_withdrawn: int


class EquityRate(Answer):
    """A rate for one demographic group; counts under 5 are suppressed (null)."""

    field: str
    group: str
    metric: str
    suppressed: bool
    numerator: float | None
    denominator: float | None
    value: float | None


class Counts(Answer):
    """Relationships per state as they stood at `as_of`, and how many were stalled."""

    scheme_id: UUID
    as_of: Timestamp
    counts: Annotated[dict[str, int], Field(description="relationships in each state")]
    stalled: int
    total: int


class AuditEntry(Answer):
    """An event as the audit trail records it; `sealed` is given to auditors only."""

    position: int
    recorded_at: Timestamp
    aggregate_type: str
    aggregate_id: UUID
    aggregate_version: int
    event_type: str
    actor_role: str | None
    actor_id: str | None
    details: dict[str, Any]
    sealed: dict[str, Any] | None = None


class AuditCheck(Answer):
    """The audit trail's hash chain, checked from its first row; `ok` only if it is
    intact and complete up to the head of the event store."""

    ok: bool
    rows: int
    complete: Annotated[bool, Field(description="every event recorded is in the trail")]
    lag: Annotated[int, Field(description="events recorded but not yet in the trail")]
    first_bad_row: Annotated[int | None, Field(description="the position of the first bad row")]


class Access(Answer):
    """A read of a personal record: who, when, which record (never what it said)."""

    id: int
    accessed_at: Timestamp
    actor_role: str
    actor_id: str
    action: str
    record_type: str
    record_id: str
    route: str


class Delivery(Answer):
    """One notice to one recipient, as the delivery log holds it: who (by role only;
    never an address), the status (`skipped` when the recipient turned reminders off
    or the notice no longer applied, with the reason in `last_error`), attempts, and
    when the notice was recorded and the message sent."""

    id: int
    notice_id: int
    relationship_id: UUID
    kind: str
    recipient_role: Literal["mentor", "mentee", "coordinator"]
    status: Literal["pending", "sent", "failed", "skipped"]
    attempts: int
    last_error: str | None
    recorded_at: Timestamp
    sent_at: Timestamp | None
    next_attempt_at: Timestamp
