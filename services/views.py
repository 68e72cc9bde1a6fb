"""What the API shows of each record: plain JSON-ready dicts."""

from collections.abc import Mapping
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


# Values that are JSON as they are: most of a view, so looked for first. Exact types,
# so that a str or int enum still becomes its value.
_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    if type(value) in _AS_THEY_ARE:
        return value
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


# What the API shows of a relationship, from the aggregate or from its row in
# `reporting.relationships` (which has a column for each).
RELATIONSHIP_FIELDS = (
    "id",
    "scheme_id",
    "mentee_id",
    "mentor_id",
    "state",
    "stalled",
    "stall_reason",
    "stalled_since",
    "escalated",
    "paused",
    "pause_reason",
    "paused_until",
    "requested_at",
    "invited_at",
    "matched_at",
    "first_meeting_at",
    "last_meeting_at",
    "last_meeting_on",
    "meetings_count",
    "agreement",
    "midpoint_due",
    "end_due",
    "planned_end",
    "ended_at",
    "end_kind",
    "rematch_of",
    "rematched_to",
    "preferred_mentor_ids",
    "rationale",
    "version",
)


def relationship_view(relationship: Relationship) -> dict[str, Any]:
    return json_object({field: getattr(relationship, field) for field in RELATIONSHIP_FIELDS})


def relationship_row_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """The same view, from a row of `reporting.relationships`."""
    return json_object({field: row[field] for field in RELATIONSHIP_FIELDS})


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
            "retention_after_end": scheme.retention_after_end,
            "roles": [
                {"role": t["role"], "person": t["person"], "from": t["from_"], "until": t["until"]}
                for t in scheme.roles
            ],
            "created_at": scheme.created_on,
            "version": scheme.version,
        }
    )


_MENTOR_PROFILE = ("scheme_id", "name", "grade", "specialty", "institution", "interests")
_MENTOR_CONTACT = ("email", "capacity", "load", "version")
_MENTOR_FIELDS = ("id", *_MENTOR_PROFILE, "available", "trained_on", *_MENTOR_CONTACT)


def mentor_view(mentor: Mentor, with_contact: bool, places_held: int = 0) -> dict[str, Any]:
    """A mentor as the directory shows them; contact details only `with_contact`."""
    values = {field: getattr(mentor, field) for field in _MENTOR_FIELDS}
    return directory_entry(values, places_held, with_contact)


def directory_entry(
    mentor: Mapping[str, Any], places_held: int, with_contact: bool
) -> dict[str, Any]:
    """The directory shows profiles and whether the mentor has room (places held by
    invitations awaiting an answer are not room); contact details only to staff and
    the mentor. `mentor` holds the fields of a Mentor (or of its directory row)."""
    view = {
        "id": mentor["id"],
        **{field: mentor[field] for field in _MENTOR_PROFILE},
        "available": mentor["available"],
        "has_room": mentor["available"] and mentor["load"] + places_held < mentor["capacity"],
        "trained_on": mentor["trained_on"],
    }
    if with_contact:
        view |= {field: mentor[field] for field in _MENTOR_CONTACT}
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
        "reminders": mentee.reminders,
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
