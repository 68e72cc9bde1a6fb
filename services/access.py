"""Who may do what to which record: the access policy, as data.

`POLICY` maps every action to the roles that may take it. A role that may never
take an action gets Forbidden (403). A role that may, but not on this record, gets
NotFound (404): admitting that another mentee's relationship exists would leak it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, unique
from types import MappingProxyType
from typing import Literal
from uuid import UUID

from domain.actors import Role
from domain.relationship import Relationship
from services.application import Mentoring
from services.auth import Principal
from services.errors import NotFound


class Forbidden(Exception):
    """Authenticated, but this role may not do this."""


@unique
class Action(Enum):
    """What a caller may ask to do; the roles allowed are in POLICY."""

    MANAGE_TOKENS = "issue, list and revoke bearer tokens"
    MANAGE_STAFF = "add, list and change staff accounts (who signs in to the pages)"
    MANAGE_SCHEMES = "create a scheme, change its settings, assign its roles"
    MATCH_COHORT = "pair a scheme's waiting requests at once"
    REGISTER_PEOPLE = "register mentors and mentees"
    UPDATE_MENTOR = "change a mentor's capacity or availability"
    RECORD_TRAINING = "record a mentor's training"
    READ_PEOPLE = "read mentors (the directory) and mentees"
    SEE_CONTACT_DETAILS = "see every mentor's email, capacity and load"
    SEE_DEMOGRAPHICS = "see any mentee's demographics (special-category data)"
    READ_RELATIONSHIP = "read relationships and their histories"
    REQUEST_MENTOR = "ask for a mentor"
    INVITE_MENTOR = "see a request's candidates and invite one"
    RESPOND_TO_INVITATION = "accept or decline an invitation"
    TAKE_PART = "meet, agree, pause, resume, extend, end, give feedback"
    REMATCH = "rematch an ended relationship"
    READ_AGGREGATE_REPORTS = "read reports in which no person can be singled out"
    READ_CASEWORK_REPORTS = "read reports that list pairs and mentors"
    READ_AUDIT_TRAIL = "read and verify the audit trail"
    READ_ACCESS_LOG = "read who read which personal record"
    SEE_SEALED_FIELDS = "see who ended a pairing without blame, and why"
    SET_REMINDERS = "turn a mentee's reminders on or off"
    CHANGE_OBJECTIVES = "change a mentee's objectives"
    READ_DELIVERY_LOG = "read which notifications were sent to whom, and when"
    RUN_SURVEY_ROUNDS = "open a survey round for a scheme's cohort"
    ANSWER_SURVEY_ROUND = "answer a survey round that asks you"
    ERASE_PEOPLE = "erase a mentor or mentee for good (their personal data)"
    EXPORT_PERSONAL_DATA = "have a copy of everything held about a person (subject access)"
    RECORD_LEAVER = "record that a mentor or mentee has left the scheme"


_STAFF: frozenset[Role] = frozenset({"admin", "coordinator"})
_OVERSIGHT: frozenset[Role] = _STAFF | {"auditor"}
_PEOPLE: frozenset[Role] = frozenset({"mentor", "mentee"})

POLICY: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.MANAGE_TOKENS: frozenset({"admin"}),
        Action.MANAGE_STAFF: frozenset({"admin"}),
        Action.MANAGE_SCHEMES: frozenset({"admin"}),
        Action.MATCH_COHORT: _STAFF,
        Action.REGISTER_PEOPLE: _STAFF,
        Action.UPDATE_MENTOR: _STAFF | {"mentor"},
        Action.RECORD_TRAINING: _STAFF,
        Action.READ_PEOPLE: _OVERSIGHT | _PEOPLE,
        Action.SEE_CONTACT_DETAILS: _OVERSIGHT,
        # Demographics are special-category data, kept for equity monitoring only.
        Action.SEE_DEMOGRAPHICS: frozenset({"admin", "auditor"}),
        Action.READ_RELATIONSHIP: _OVERSIGHT | _PEOPLE,
        Action.REQUEST_MENTOR: _STAFF | {"mentee"},
        Action.INVITE_MENTOR: _STAFF | {"mentee"},
        Action.RESPOND_TO_INVITATION: _STAFF | {"mentor"},
        Action.TAKE_PART: _STAFF | _PEOPLE,
        Action.REMATCH: _STAFF,
        Action.READ_AGGREGATE_REPORTS: _OVERSIGHT | {"reporter"},
        # Lists of pairs and mentors name people by id: not for reporters.
        Action.READ_CASEWORK_REPORTS: _OVERSIGHT,
        Action.READ_AUDIT_TRAIL: frozenset({"admin", "auditor"}),
        Action.READ_ACCESS_LOG: frozenset({"auditor"}),
        # DESIGN.md: the no-blame clause.
        Action.SEE_SEALED_FIELDS: frozenset({"auditor"}),
        Action.SET_REMINDERS: _STAFF | {"mentee"},
        Action.CHANGE_OBJECTIVES: _STAFF | {"mentee"},
        Action.READ_DELIVERY_LOG: _STAFF,
        Action.RUN_SURVEY_ROUNDS: _STAFF,
        Action.ANSWER_SURVEY_ROUND: _PEOPLE,
        Action.ERASE_PEOPLE: frozenset({"admin"}),
        # UK GDPR Article 15: the person themselves, or the deanery on their behalf.
        Action.EXPORT_PERSONAL_DATA: _PEOPLE | {"admin"},
        Action.RECORD_LEAVER: _STAFF,
    }
)


def allowed(principal: Principal, action: Action) -> bool:
    """Whether the caller's role may take the action (on some record)."""
    return principal.role in POLICY[action]


def check_allowed(principal: Principal, action: Action) -> None:
    """Raises Forbidden unless the caller's role may take the action."""
    if not allowed(principal, action):
        raise Forbidden(f"the {principal.role} role may not do this")


def sees_sealed(principal: Principal) -> bool:
    """Whether the caller sees sealed fields (who ended a pairing without blame, and
    why): every route and report that could show them asks this. Which fields are
    sealed is the domain's classification (`domain.privacy.sealed_fields`), which the
    history (services.views.event_view) and the audit log (projections.audit) read."""
    return allowed(principal, Action.SEE_SEALED_FIELDS)


def in_scheme(principal: Principal, scheme_id: UUID) -> bool:
    """Coordinators work on their own schemes; other roles are not limited by scheme."""
    return principal.role != "coordinator" or scheme_id in principal.scheme_ids


def check_can_register(principal: Principal, scheme_id: UUID) -> None:
    """Raises Forbidden for a coordinator registering people in another scheme (the
    role was checked already: Action.REGISTER_PEOPLE)."""
    if not in_scheme(principal, scheme_id):
        raise Forbidden("coordinators register people in their own schemes only")


def check_scheme(principal: Principal, scheme_id: UUID, kind: str, object_id: UUID) -> None:
    """NotFound for a coordinator asking about another scheme's record."""
    if not in_scheme(principal, scheme_id):
        raise NotFound(kind, object_id)


Person = Literal["mentor", "mentee"]


def person_of(principal: Principal) -> tuple[Person, UUID] | None:
    """Which mentor or mentee the caller is; None for every other role."""
    if principal.subject_id is None:
        return None
    if principal.role == "mentor":
        return "mentor", principal.subject_id
    if principal.role == "mentee":
        return "mentee", principal.subject_id
    return None


def own_scheme_id(principal: Principal, mentoring: Mentoring) -> UUID | None:
    """The scheme of a mentor or mentee caller; None for every other role."""
    person = person_of(principal)
    if person is None:
        return None
    kind, person_id = person
    found = mentoring.get_mentor(person_id) if kind == "mentor" else mentoring.get_mentee(person_id)
    return found.scheme_id


def people_scope(principal: Principal, own_scheme_id: UUID | None) -> frozenset[UUID] | None:
    """The schemes whose mentors a caller may browse: a mentor's or mentee's own
    (`own_scheme_id`), a coordinator's, or every scheme (None)."""
    if own_scheme_id is not None:
        return frozenset({own_scheme_id})
    if principal.role == "coordinator":
        return principal.scheme_ids
    return None


@dataclass(frozen=True)
class RelationshipScope:
    """The relationships a caller may read: those of `scheme_ids` (None: of every
    scheme) whose mentor is `mentor_id` and whose mentee is `mentee_id` (None: any)."""

    scheme_ids: frozenset[UUID] | None = None
    mentor_id: UUID | None = None
    mentee_id: UUID | None = None

    def admits(self, relationship: Relationship) -> bool:
        return (
            (self.scheme_ids is None or relationship.scheme_id in self.scheme_ids)
            and (self.mentor_id is None or relationship.mentor_id == self.mentor_id)
            and (self.mentee_id is None or relationship.mentee_id == self.mentee_id)
        )


def relationship_scope(principal: Principal) -> RelationshipScope:
    """Mentors and mentees read their own relationships, coordinators their schemes'.
    A mentor or mentee without a subject reads none."""
    nobody = UUID(int=0)
    if principal.role == "mentor":
        return RelationshipScope(mentor_id=principal.subject_id or nobody)
    if principal.role == "mentee":
        return RelationshipScope(mentee_id=principal.subject_id or nobody)
    if principal.role == "coordinator":
        return RelationshipScope(scheme_ids=principal.scheme_ids)
    return RelationshipScope()


def check_relationship(principal: Principal, relationship: Relationship) -> None:
    """NotFound unless the relationship is within the caller's scope (the role was
    checked already)."""
    if not relationship_scope(principal).admits(relationship):
        raise NotFound("relationship", relationship.id)
