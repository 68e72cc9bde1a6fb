"""`reporting.mentor_load`: per mentor, capacity against current mentees, open
invitations, and how the mentor answered invitations so far; with
`reporting.mentor_profiles` (names, emails and interests: personal, so apart), the
mentor directory of the API."""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from domain.people import Mentor
from domain.relationship import Relationship
from projections.events import MENTOR_TOPICS, STATE_TOPICS
from projections.pairs import PAIR_COLUMNS, Row, fold_pair, new_pair
from projections.view import (
    Positioned,
    ReportingProjection,
    ReportingView,
    create_table_sql,
    load_rows,
    replace_rows,
)

LOAD_COLUMNS: dict[str, str] = {
    "mentor_id": "uuid PRIMARY KEY",
    "scheme_id": "uuid NOT NULL",
    "grade": "text NOT NULL",
    "specialty": "text NOT NULL",
    "institution": "text NOT NULL",
    "capacity": "integer NOT NULL",
    "available": "boolean NOT NULL",
    "trained_on": "date",
    "current_mentees": "integer NOT NULL",
    "free_places": "integer NOT NULL",
    "open_invitations": "integer NOT NULL",
    "invitations_accepted": "integer NOT NULL",
    "invitations_declined": "integer NOT NULL",
    "invitations_lapsed": "integer NOT NULL",
    "invitations_withdrawn": "integer NOT NULL",
    "registered_at": "timestamptz NOT NULL",
    "updated_at": "timestamptz NOT NULL",
    "version": "integer NOT NULL",
}
# What the directory shows of a mentor beyond the load: fixed at registration.
PROFILE_COLUMNS: dict[str, str] = {
    "mentor_id": "uuid PRIMARY KEY",
    "name": "text NOT NULL",
    "email": "text NOT NULL",
    "interests": "jsonb NOT NULL",
    "position": "bigint NOT NULL",
}
# What the projection remembers of each relationship: who is invited, in which state.
INDEX_COLUMNS = {
    column: PAIR_COLUMNS[column]
    for column in ("id", "scheme_id", "mentee_id", "mentor_id", "state", "version", "updated_at")
}
INDEX_COLUMNS["position"] = PAIR_COLUMNS["position"]

INVITATION_COUNTS = (
    "open_invitations",
    "invitations_accepted",
    "invitations_declined",
    "invitations_lapsed",
    "invitations_withdrawn",
)
# Relationship event -> the counter it adds one to, when it closes an invitation.
ANSWERS: dict[type[Relationship.Event], str] = {
    Relationship.InvitationAccepted: "invitations_accepted",
    Relationship.InvitationDeclined: "invitations_declined",
    Relationship.InvitationLapsed: "invitations_lapsed",
    # The mentor's last place went to another mentee first.
    Relationship.InvitationWithdrawn: "invitations_withdrawn",
}


def _registered(event: Any, earlier: Row | None) -> Row:
    """The mentor's row on registration. `earlier` holds counts from invitations
    recorded before the registration, which can happen when both are saved at once."""
    return {
        "mentor_id": event.originator_id,
        "scheme_id": event.scheme_id,
        "grade": event.grade,
        "specialty": event.specialty,
        "institution": event.institution,
        "capacity": event.capacity,
        "available": True,
        "trained_on": event.trained_on,
        "current_mentees": 0,
        "free_places": event.capacity,
        "open_invitations": 0,
        "invitations_accepted": 0,
        "invitations_declined": 0,
        "invitations_lapsed": 0,
        "invitations_withdrawn": 0,
        "registered_at": event.timestamp,
        "updated_at": event.timestamp,
        "version": event.originator_version,
    } | ({count: earlier[count] for count in INVITATION_COUNTS} if earlier else {})


def _profile(event: Any, position: int) -> Row:
    """The mentor's directory entry, from the registration at `position`."""
    return {
        "mentor_id": event.originator_id,
        "name": event.name,
        "email": event.email,
        "interests": list(event.interests),
        "position": position,
    }


def _not_yet_registered(mentor_id: Any, pair: Row, event: Any) -> Row:
    """A placeholder for a mentor whose registration comes later in the same save."""
    return {
        "mentor_id": mentor_id,
        "scheme_id": pair["scheme_id"],
        "grade": "",
        "specialty": "",
        "institution": "",
        "capacity": 0,
        "available": True,
        "trained_on": None,
        "current_mentees": 0,
        "free_places": 0,
        "open_invitations": 0,
        "invitations_accepted": 0,
        "invitations_declined": 0,
        "invitations_lapsed": 0,
        "invitations_withdrawn": 0,
        "registered_at": event.timestamp,
        "updated_at": event.timestamp,
        "version": 0,
    }


def _apply_mentor_event(mentor: Row, event: Any) -> None:
    match event:
        case Mentor.CapacityChanged():
            mentor["capacity"] = event.capacity
        case Mentor.AvailabilityChanged():
            mentor["available"] = event.available
        case Mentor.TrainingRecorded():
            mentor["trained_on"] = event.trained_on
        case Mentor.PlaceTaken():
            mentor["current_mentees"] += 1
        case Mentor.PlaceReleased():
            mentor["current_mentees"] -= 1
    mentor["free_places"] = mentor["capacity"] - mentor["current_mentees"]


def _is_mentor_event(event: Any) -> bool:
    return isinstance(event, Mentor.Event)


def _invitation_change(pair: Row, event: Any) -> tuple[Any, str | None, int]:
    """(mentor id, answer counter or None, change to open invitations) for a
    relationship event, judged from the pair's state before the event."""
    if isinstance(event, Relationship.MentorInvited):
        return event.mentor_id, None, 1
    if type(event) in ANSWERS:
        return pair["mentor_id"], ANSWERS[type(event)], -1
    if isinstance(event, Relationship.Ended) and pair["state"] == "mentor_invited":
        return pair["mentor_id"], None, -1
    return None, None, 0


class MentorLoadView(ReportingView):
    tables = ("mentor_load", "mentor_load_relationships", "mentor_profiles")
    ddl = (
        create_table_sql("mentor_load", LOAD_COLUMNS),
        create_table_sql("mentor_profiles", PROFILE_COLUMNS),
        create_table_sql("mentor_load_relationships", INDEX_COLUMNS),
        "CREATE INDEX IF NOT EXISTS mentor_load_scheme ON reporting.mentor_load (scheme_id)",
    )


class MentorLoadProjection(ReportingProjection):
    name = "mentor_load"
    topics = MENTOR_TOPICS + STATE_TOPICS
    view_class = MentorLoadView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        of_mentors = [e for e, _ in events if _is_mentor_event(e)]
        of_pairs = [e for e, _ in events if not _is_mentor_event(e)]
        pairs = load_rows(
            curs, "mentor_load_relationships", "id", {e.originator_id for e in of_pairs}
        )
        # Every mentor a batch can touch: its own events, invitations, and the
        # mentors the batch's relationships already have.
        mentor_ids = {e.originator_id for e in of_mentors}
        mentor_ids |= {getattr(e, "mentor_id", None) for e in of_pairs}
        mentor_ids |= {pair["mentor_id"] for pair in pairs.values()}
        mentor_ids.discard(None)
        mentors = load_rows(curs, "mentor_load", "mentor_id", mentor_ids)
        profiles: dict[Any, Row] = {}
        for event, position in events:
            if not _is_mentor_event(event):
                self._apply_relationship_event(pairs, mentors, event, position)
            elif isinstance(event, Mentor.Registered):
                mentors[event.originator_id] = _registered(event, mentors.get(event.originator_id))
                profiles[event.originator_id] = _profile(event, position)
            else:
                _apply_mentor_event(mentors[event.originator_id], event)
                mentors[event.originator_id]["updated_at"] = event.timestamp
                mentors[event.originator_id]["version"] = event.originator_version
        replace_rows(curs, "mentor_load_relationships", "id", tuple(INDEX_COLUMNS), pairs)
        replace_rows(curs, "mentor_load", "mentor_id", tuple(LOAD_COLUMNS), mentors)
        replace_rows(
            curs, "mentor_profiles", "mentor_id", tuple(PROFILE_COLUMNS), profiles, ("interests",)
        )

    @staticmethod
    def _apply_relationship_event(
        pairs: dict[Any, Row], mentors: dict[Any, Row], event: Any, position: int
    ) -> None:
        if isinstance(event, Relationship.Requested):
            pairs[event.originator_id] = new_pair(event)
        pair = pairs[event.originator_id]
        mentor_id, answer, opened = _invitation_change(pair, event)
        fold_pair(pair, event, position)
        if mentor_id is None:
            return
        mentor = mentors.setdefault(mentor_id, _not_yet_registered(mentor_id, pair, event))
        mentor["open_invitations"] += opened
        if answer is not None:
            mentor[answer] += 1
        mentor["updated_at"] = event.timestamp
