"""Subject access: a copy of everything held about a mentor or mentee, as JSON
(services.subject_access gathers it)."""

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends

from services import subject_access
from services.access import Action
from services.api.answers import Answer, Timestamp
from services.api.deps import MentoringDep, RuntimeDep, require
from services.api.problems import AUTHENTICATED, ONE_RECORD
from services.auth import Principal

router = APIRouter(tags=["data protection"], responses=AUTHENTICATED)

Exporter = Annotated[Principal, Depends(require(Action.EXPORT_PERSONAL_DATA))]


class Party(Answer):
    """A person by role and id only: how the other party of a pair appears."""

    role: Literal["mentor", "mentee"]
    id: UUID


class Actor(Answer):
    role: str
    id: str


class RecordedEvent(Answer):
    """One event. `withheld` names the fields left out because they are another
    person's (personal or sealed fields of an event that was not this person's act)."""

    version: int
    type: str
    at: Timestamp
    actor: Actor | None
    details: dict[str, Any]
    withheld: list[str]


class ExportedRelationship(Answer):
    id: UUID
    scheme_id: UUID
    state: str
    requested_at: Timestamp
    matched_at: Timestamp | None
    first_meeting_at: Timestamp | None
    last_meeting_at: Timestamp | None
    meetings_count: int
    planned_end: Timestamp | None
    ended_at: Timestamp | None
    end_kind: str | None
    rematch_of: UUID | None
    rematched_to: UUID | None
    role: Literal["mentor", "mentee"]
    other_party: Party | None
    events: list[RecordedEvent]


class GivenFeedback(Answer):
    """Answers the person gave: in a relationship's own check-in (`relationship_id`),
    or to a survey round that asked them (`survey_round_id`, `survey_round`: its name)."""

    relationship_id: UUID | None = None
    survey_round_id: UUID | None = None
    survey_round: str | None = None
    stage: str
    given_at: Timestamp
    answers: dict[str, Any]


class SentNotification(Answer):
    """A notice meant for the person: its kind and what became of it, never its text."""

    id: int
    relationship_id: UUID
    kind: str
    status: str
    last_error: str | None
    recorded_at: Timestamp
    sent_at: Timestamp | None


class Access(Answer):
    """One read of the person's records, or of a relationship of theirs."""

    accessed_at: Timestamp
    actor_role: str
    actor_id: str
    action: str
    record_type: str
    record_id: str
    route: str | None


class SubjectAccessExport(Answer):
    person: Party
    exported_at: Timestamp
    profile: dict[str, Any]
    record_history: list[RecordedEvent]
    relationships: list[ExportedRelationship]
    feedback: list[GivenFeedback]
    notifications: list[SentNotification]
    access_log: list[Access]


@router.get(
    "/v1/people/{person_id}/export",
    response_model=SubjectAccessExport,
    responses=ONE_RECORD,
    summary="Everything held about a mentor or mentee (subject access)",
)
def export_person(
    person_id: UUID, principal: Exporter, mentoring: MentoringDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Admins export anyone; a mentor or mentee themselves only (404 for another
    person). The other party of a pair appears by role and id; their personal and
    sealed fields are left out (`withheld`). The read is recorded in the access log,
    and the export shows it."""
    return subject_access.export(
        mentoring, runtime.pool, principal, person_id, f"/v1/people/{person_id}/export"
    )
