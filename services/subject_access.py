"""Subject access (UK GDPR Article 15): everything held about one mentor or mentee,
gathered in one place for the API (`GET /v1/people/{id}/export`) and the pages
(`/my/data`, `/people/{id}/data`).

What it holds: the person's profile and the history of their record; each
relationship they were part of, with its events; the feedback they gave; the
notifications sent to them (kind, status, when; never the message, which the
service does not keep); and the access log of who read their records and when.
Reading an export is itself logged, before it is gathered, so it shows its own read.

What it leaves out is the other party's personal data: the other person of a pair
appears by role and id only, never by name or email. One rule decides it for every
relationship event: its personal and sealed fields (domain.privacy) are shown only
when the event is the person's own act (they are its actor, or for feedback its
respondent); otherwise they are withheld, and the event names the fields withheld.
So the other party's pause reasons and answers never appear, and neither do who
ended a pairing without blame and why, unless it was the person themselves. The
events of the person's own record (their registration, say) show its personal
fields whoever recorded them: those are the person's own data.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from eventsourcing.utils import get_topic
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.privacy import personal_fields, sealed_fields
from domain.relationship import Relationship
from projections.access_log import record_access
from services.access import Action, check_allowed, person_of
from services.application import Mentoring
from services.auth import Principal
from services.errors import NotFound
from services.views import json_object, mentee_view, mentor_view

PersonKind = Literal["mentor", "mentee"]

# What the export calls the record it reads, in the access log.
EXPORT_RECORD = "subject_access_export"

_ENVELOPE = {"originator_id", "originator_version", "originator_topic", "timestamp", "actor"}
# The events that name each kind of person as a party to a relationship, and the field.
_NAMED_IN: dict[PersonKind, tuple[tuple[str, ...], str]] = {
    "mentee": ((get_topic(Relationship.Requested),), "mentee_id"),
    "mentor": (
        (get_topic(Relationship.MentorInvited), get_topic(Relationship.Matched)),
        "mentor_id",
    ),
}
_PAGE = 500
# A relationship's summary: no pause reason, which is one party's and is shown
# through its event under the rule above.
_SUMMARY_FIELDS = (
    "id",
    "scheme_id",
    "state",
    "requested_at",
    "matched_at",
    "first_meeting_at",
    "last_meeting_at",
    "meetings_count",
    "planned_end",
    "ended_at",
    "end_kind",
    "rematch_of",
    "rematched_to",
)


@dataclass(frozen=True)
class Person:
    """Whose export it is: a mentor or a mentee, by id."""

    kind: PersonKind
    id: UUID


def find_person(mentoring: Mentoring, person_id: UUID) -> Person:
    """The mentee or mentor with this id; NotFound for neither."""
    try:
        mentoring.get_mentee(person_id)
        return Person("mentee", person_id)
    except NotFound:
        mentoring.get_mentor(person_id)
        return Person("mentor", person_id)


def check_may_export(principal: Principal, person_id: UUID) -> None:
    """Admins export anyone; a mentor or mentee only themselves (NotFound for anyone
    else, as the API answers for another person's record); other roles are
    Forbidden."""
    check_allowed(principal, Action.EXPORT_PERSONAL_DATA)
    own = person_of(principal)
    if principal.role != "admin" and (own is None or own[1] != person_id):
        raise NotFound("person", person_id)


def export(
    mentoring: Mentoring, pool: ConnectionPool, principal: Principal, person_id: UUID, route: str
) -> dict[str, Any]:
    """Everything held about the person, for this caller (check_may_export), with this
    read recorded in the access log first. Raises NotFound or Forbidden."""
    check_may_export(principal, person_id)
    person = find_person(mentoring, person_id)
    with pool.connection() as connection:
        record_access(
            connection,
            actor_role=principal.role,
            actor_id=principal.actor.id,
            record_type=EXPORT_RECORD,
            record_id=person_id,
            route=route,
        )
    relationships = [mentoring.get_relationship(i) for i in _relationship_ids(mentoring, person)]
    return {
        "person": {"role": person.kind, "id": str(person.id)},
        "exported_at": datetime.now(UTC).isoformat(),
        "profile": _profile(mentoring, person),
        "record_history": [_event(e, person, True) for e in mentoring.events.get(person.id)],
        "relationships": [_relationship(mentoring, r, person) for r in relationships],
        "feedback": _feedback(mentoring, relationships, person),
        "notifications": _notifications(pool, person),
        "access_log": _accesses(pool, [person.id, *(r.id for r in relationships)]),
    }


def _profile(mentoring: Mentoring, person: Person) -> dict[str, Any]:
    if person.kind == "mentee":
        mentee = mentoring.get_mentee(person.id)
        return mentee_view(mentee, with_demographics=True) | json_object(
            {"left_at": mentee.left_at}
        )
    mentor = mentoring.get_mentor(person.id)
    return mentor_view(mentor, with_contact=True) | json_object(
        {
            "relationship_ids": mentor.relationship_ids,
            "reminders": mentor.reminders,
            "left_at": mentor.left_at,
        }
    )


def _relationship_ids(mentoring: Mentoring, person: Person) -> list[UUID]:
    """Every relationship the person was a party to, oldest first: for a mentor, each
    they were invited to or matched in, whether or not it went ahead."""
    topics, field = _NAMED_IN[person.kind]
    found: dict[UUID, None] = {}
    start = 1
    while True:
        page = mentoring.recorder.select_notifications(start, _PAGE, topics=list(topics))
        for notification in page:
            named = mentoring.mapper.to_domain_event(notification)
            if getattr(named, field) == person.id:
                found[UUID(str(notification.originator_id))] = None
        if len(page) < _PAGE:
            return list(found)
        start = page[-1].id + 1


def _relationship(
    mentoring: Mentoring, relationship: Relationship, person: Person
) -> dict[str, Any]:
    other: PersonKind = "mentor" if person.kind == "mentee" else "mentee"
    other_id = relationship.mentor_id if other == "mentor" else relationship.mentee_id
    return json_object({field: getattr(relationship, field) for field in _SUMMARY_FIELDS}) | {
        "role": person.kind,
        "other_party": None if other_id is None else {"role": other, "id": str(other_id)},
        "events": [_event(e, person) for e in mentoring.events.get(relationship.id)],
    }


def _own_act(event: Any, person: Person) -> bool:
    """Whether the event records the person's own act: the rule for showing its
    personal and sealed fields (see the module docstring)."""
    if isinstance(event, Relationship.FeedbackGiven):
        return bool(event.respondent == person.kind)
    return bool(event.actor.id == str(person.id))


def _event(event: Any, person: Person, own_record: bool = False) -> dict[str, Any]:
    """An event as the person sees it. The personal fields of their own record's
    events are theirs; those of a relationship's, and any sealed field, only when
    the event is their own act."""
    details = {k: v for k, v in vars(event).items() if k not in _ENVELOPE}
    withheld: frozenset[str] = frozenset()
    if not _own_act(event, person):
        others = (
            sealed_fields(event) if own_record else personal_fields(event) | sealed_fields(event)
        )
        withheld = others & {*details, "actor"}
    shown_actor = "actor" not in withheld
    return json_object(
        {
            "version": event.originator_version,
            "type": type(event).__name__,
            "at": event.timestamp,
            "actor": {"role": event.actor.role, "id": event.actor.id} if shown_actor else None,
            "details": {k: v for k, v in details.items() if k not in withheld},
            "withheld": sorted(withheld),
        }
    )


def _feedback(
    mentoring: Mentoring, relationships: Iterable[Relationship], person: Person
) -> list[dict[str, Any]]:
    """The survey answers the person gave: in each relationship's check-ins, then to
    each survey round that asked them."""
    in_relationships = [
        json_object(
            {
                "relationship_id": relationship.id,
                "stage": event.stage,
                "given_at": event.timestamp,
                "answers": event.answers,
            }
        )
        for relationship in relationships
        for event in mentoring.events.get(relationship.id)
        if isinstance(event, Relationship.FeedbackGiven) and event.respondent == person.kind
    ]
    in_rounds = [
        json_object(
            {
                "survey_round_id": survey_round.id,
                "survey_round": survey_round.name,
                "stage": survey_round.stage,
                "given_at": event.timestamp,
                "answers": event.answers,
            }
        )
        for survey_round, event in mentoring.survey_rounds.answers_of(person.id)
    ]
    return in_relationships + in_rounds


def _notifications(pool: ConnectionPool, person: Person) -> list[dict[str, Any]]:
    """The notices meant for the person (services.mail.deliveries): kind, status and
    when; none before the sender first ran."""
    with pool.connection() as connection, connection.cursor(row_factory=dict_row) as cursor:
        exists = cursor.execute("SELECT to_regclass('notification_deliveries') AS t").fetchone()
        if exists is None or exists["t"] is None:
            return []
        rows = cursor.execute(
            "SELECT id, relationship_id, kind, status, last_error, recorded_at, sent_at"
            " FROM notification_deliveries WHERE recipient_role = %s AND recipient_id = %s"
            " ORDER BY recorded_at, id",
            (person.kind, person.id),
        ).fetchall()
    return [json_object(row) for row in rows]


def _accesses(pool: ConnectionPool, record_ids: Iterable[UUID]) -> list[dict[str, Any]]:
    """Who read the person's records, or their relationships', and when."""
    with pool.connection() as connection, connection.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(
            "SELECT accessed_at, actor_role, actor_id, action, record_type, record_id, route"
            " FROM audit.access_log WHERE record_id = ANY(%s) ORDER BY id",
            ([str(i) for i in record_ids],),
        ).fetchall()
    return [json_object(row) for row in rows]
