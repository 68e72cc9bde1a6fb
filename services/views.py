"""What the API shows of each record: plain JSON-ready dicts."""

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.matching import Candidate
from domain.people import Mentee, Mentor
from domain.privacy import sealed_fields, special_category_fields
from domain.relationship import Relationship
from domain.scheme import Scheme
from services.matchmaking import CohortRun

_EVENT_ENVELOPE = {"originator_id", "originator_version", "originator_topic", "timestamp", "actor"}


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def json_object(values: dict[str, Any]) -> dict[str, Any]:
    return {key: jsonable(value) for key, value in values.items()}


def relationship_view(relationship: Relationship) -> dict[str, Any]:
    r = relationship
    return json_object(
        {
            "id": r.id,
            "scheme_id": r.scheme_id,
            "mentee_id": r.mentee_id,
            "mentor_id": r.mentor_id,
            "state": r.state,
            "stalled": r.stalled,
            "stall_reason": r.stall_reason,
            "stalled_since": r.stalled_since,
            "escalated": r.escalated,
            "paused": r.paused,
            "pause_reason": r.pause_reason,
            "paused_until": r.paused_until,
            "requested_at": r.requested_at,
            "invited_at": r.invited_at,
            "matched_at": r.matched_at,
            "first_meeting_at": r.first_meeting_at,
            "last_meeting_at": r.last_meeting_at,
            "last_meeting_on": r.last_meeting_on,
            "meetings_count": r.meetings_count,
            "agreement": r.agreement,
            "midpoint_due": r.midpoint_due,
            "end_due": r.end_due,
            "planned_end": r.planned_end,
            "ended_at": r.ended_at,
            "end_kind": r.end_kind,
            "rematch_of": r.rematch_of,
            "rematched_to": r.rematched_to,
            "preferred_mentor_ids": r.preferred_mentor_ids,
            "rationale": r.rationale,
            "version": r.version,
        }
    )


def scheme_view(scheme: Scheme) -> dict[str, Any]:
    return json_object(
        {
            "id": scheme.id,
            "name": scheme.name,
            "matching_model": scheme.matching_model,
            "require_mentor_acceptance": scheme.require_mentor_acceptance,
            "require_mentor_training": scheme.require_mentor_training,
            "timers": scheme.timers,
            "cohorts": scheme.cohorts,
            "objectives": scheme.objectives,
            "survey": scheme.survey,
            "matching": scheme.matching,
            "roles": [
                {"role": t["role"], "person": t["person"], "from": t["from_"], "until": t["until"]}
                for t in scheme.roles
            ],
            "created_at": scheme.created_on,
            "version": scheme.version,
        }
    )


def mentor_view(mentor: Mentor, with_contact: bool, places_held: int = 0) -> dict[str, Any]:
    """The directory shows profiles and whether the mentor has room (places held by
    invitations awaiting an answer are not room); contact details only to staff and
    the mentor."""
    view = {
        "id": mentor.id,
        "scheme_id": mentor.scheme_id,
        "name": mentor.name,
        "grade": mentor.grade,
        "specialty": mentor.specialty,
        "institution": mentor.institution,
        "interests": mentor.interests,
        "available": mentor.available,
        "has_room": mentor.available and mentor.load + places_held < mentor.capacity,
        "trained_on": mentor.trained_on,
    }
    if with_contact:
        view |= {
            "email": mentor.email,
            "capacity": mentor.capacity,
            "load": mentor.load,
            "version": mentor.version,
        }
    return json_object(view)


def mentee_view(mentee: Mentee, with_demographics: bool) -> dict[str, Any]:
    """A mentee's record; its special-category fields only `with_demographics`."""
    view = {
        "id": mentee.id,
        "scheme_id": mentee.scheme_id,
        "cohort": mentee.cohort,
        "name": mentee.name,
        "email": mentee.email,
        "grade": mentee.grade,
        "specialty": mentee.specialty,
        "specialty_decided": mentee.specialty_decided,
        "institution": mentee.institution,
        "interests": mentee.interests,
        "objectives": mentee.objectives,
        "line_manager_ids": mentee.line_manager_ids,
        "open_relationship_id": mentee.open_relationship_id,
        "previous_mentor_ids": mentee.previous_mentor_ids,
        "version": mentee.version,
    }
    if with_demographics:
        view |= {
            field: getattr(mentee, field) for field in special_category_fields(Mentee.Registered)
        }
    return json_object(view)


def candidate_view(candidate: Candidate) -> dict[str, Any]:
    """A ranked mentor: the score and the reason for each of its parts."""
    return json_object(
        {
            "mentor_id": candidate.mentor_id,
            "name": candidate.mentor_name,
            "score": round(candidate.score, 6),
            "reasons": candidate.reasons,
        }
    )


def cohort_run_view(run: CohortRun) -> dict[str, Any]:
    return json_object(
        {
            "dry_run": run.dry_run,
            "proposals": [
                {"relationship_id": p.relationship_id} | candidate_view(p.candidate)
                for p in run.proposals
            ],
            "unmatched": [
                {"relationship_id": u.relationship_id, "reason": u.reason, "reasons": [u.message]}
                for u in run.unmatched
            ],
        }
    )


def event_view(domain_event: Any, show_sealed: bool) -> dict[str, Any]:
    """One event of a history. Sealed fields are left out unless `show_sealed`."""
    event_type = type(domain_event).__name__
    details = {k: v for k, v in vars(domain_event).items() if k not in _EVENT_ENVELOPE}
    actor: Any = domain_event.actor
    sealed = sealed_fields(domain_event)
    if sealed and not show_sealed:
        details = {k: v for k, v in details.items() if k not in sealed}
        if "actor" in sealed:
            actor = None
    return json_object(
        {
            "version": domain_event.originator_version,
            "type": event_type,
            "at": domain_event.timestamp,
            "actor": actor,
            "details": details,
            "sealed": bool(sealed) and not show_sealed,
        }
    )


def saved_view(view: dict[str, Any], position: int) -> dict[str, Any]:
    """A command's answer: the record as saved and the notification position of its
    last event, to wait on for read-your-writes."""
    return view | {"position": position}
