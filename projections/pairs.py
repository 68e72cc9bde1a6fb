"""One relationship's reportable state, folded from its events.

`fold_pair` is the single place that knows what each Relationship event does to a
row; the projections store all of these columns (`relationships`, the evaluation
and equity facts) or a few of them (the helper tables of history, stalls and
mentor load). `relationships` also stores `LISTING_COLUMNS`, what the API's list
shows beyond the reported facts, and keeps the `pause_reason` the fold sets apart
(it is personal). Handlers read with defaults so that a partial row can be folded:
only the columns a table stores are written back.
"""

from collections.abc import Callable
from typing import Any

from domain.privacy import ERASED
from domain.relationship import Relationship

Row = dict[str, Any]

# Column name -> PostgreSQL type, in table order.
PAIR_COLUMNS: dict[str, str] = {
    "id": "uuid PRIMARY KEY",
    "scheme_id": "uuid NOT NULL",
    "mentee_id": "uuid NOT NULL",
    "mentor_id": "uuid",
    "state": "text NOT NULL",
    "stalled": "boolean NOT NULL",
    "stall_reason": "text",
    "stalled_since": "timestamptz",
    "escalated": "boolean NOT NULL",
    "escalated_at": "timestamptz",
    "paused": "boolean NOT NULL",
    "requested_at": "timestamptz NOT NULL",
    "invited_at": "timestamptz",
    "matched_at": "timestamptz",
    "first_meeting_at": "timestamptz",
    "first_meeting_on": "date",
    "last_meeting_at": "timestamptz",
    "last_meeting_on": "date",
    "meetings_count": "integer NOT NULL",
    "meetings_in_person": "integer NOT NULL",
    "meetings_video": "integer NOT NULL",
    "meetings_phone": "integer NOT NULL",
    "meetings_email": "integer NOT NULL",
    "meetings_other": "integer NOT NULL",
    "minutes_met": "integer NOT NULL",
    "agreement_recorded_at": "timestamptz",
    "planned_end": "timestamptz",
    "midpoint_due": "boolean NOT NULL",
    "end_due": "boolean NOT NULL",
    "ended_at": "timestamptz",
    "end_kind": "text",
    "rematch_of": "uuid",
    "rematched_to": "uuid",
    "invitations_sent": "integer NOT NULL",
    "invitations_accepted": "integer NOT NULL",
    "invitations_declined": "integer NOT NULL",
    "invitations_lapsed": "integer NOT NULL",
    "invitations_withdrawn": "integer NOT NULL",
    "version": "integer NOT NULL",
    "updated_at": "timestamptz NOT NULL",
    "position": "bigint NOT NULL",
}

# Only in `relationships`: the rest of a relationship as `GET /v1/relationships`
# lists it.
LISTING_COLUMNS: dict[str, str] = {
    "paused_until": "date",
    "agreement": "jsonb",
    "preferred_mentor_ids": "jsonb NOT NULL",
    "rationale": "jsonb",
    "requested_position": "bigint NOT NULL",
}
LISTING_JSON_COLUMNS = ("agreement", "preferred_mentor_ids", "rationale")

_COUNTERS = (
    "meetings_count",
    "meetings_in_person",
    "meetings_video",
    "meetings_phone",
    "meetings_email",
    "meetings_other",
    "minutes_met",
    "invitations_sent",
    "invitations_accepted",
    "invitations_declined",
    "invitations_lapsed",
    "invitations_withdrawn",
)


def new_pair(event: Any) -> Row:
    """The row a `Relationship.Requested` event creates."""
    row: Row = dict.fromkeys((*PAIR_COLUMNS, *LISTING_COLUMNS))
    row.update(dict.fromkeys(_COUNTERS, 0))
    row.update(
        id=event.originator_id,
        scheme_id=event.scheme_id,
        mentee_id=event.mentee_id,
        state="requested",
        stalled=False,
        escalated=False,
        paused=False,
        midpoint_due=False,
        end_due=False,
        requested_at=event.timestamp,
        rematch_of=event.rematch_of,
    )
    row["preferred_mentor_ids"] = [str(mentor_id) for mentor_id in event.preferred_mentor_ids]
    return row


def fold_pair(row: Row, event: Any, position: int) -> None:
    """Apply one Relationship event (not `Requested`) to its row, in place."""
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        handler(row, event)
    row["version"] = event.originator_version
    row["updated_at"] = event.timestamp
    row["position"] = position


def _add(row: Row, column: str, amount: int = 1) -> None:
    row[column] = (row.get(column) or 0) + amount


def _mentor_invited(row: Row, e: Any) -> None:
    row.update(state="mentor_invited", mentor_id=e.mentor_id, invited_at=e.timestamp)
    row["rationale"] = e.rationale or None
    _add(row, "invitations_sent")


def _matched(row: Row, e: Any) -> None:
    row.update(state="matched", mentor_id=e.mentor_id, matched_at=e.timestamp)
    row["rationale"] = e.rationale or None


def _accepted(row: Row, e: Any) -> None:
    row.update(state="matched", matched_at=e.timestamp)
    _add(row, "invitations_accepted")


def _back_to_requested(counter: str) -> Callable[[Row, Any], None]:
    def handler(row: Row, e: Any) -> None:
        row.update(state="requested", mentor_id=None, invited_at=None)
        row["rationale"] = None
        _add(row, counter)

    return handler


def _meeting_logged(row: Row, e: Any) -> None:
    if e.planned_end is not None:
        row.update(
            state="active",
            first_meeting_at=e.timestamp,
            first_meeting_on=e.held_on,
            planned_end=e.planned_end,
        )
    _add(row, "meetings_count")
    _add(row, f"meetings_{e.mode}")
    _add(row, "minutes_met", e.duration_minutes)
    row["last_meeting_at"] = e.timestamp
    last_on = row.get("last_meeting_on")
    if last_on is None or e.held_on > last_on:
        row["last_meeting_on"] = e.held_on


def _agreement_recorded(row: Row, e: Any) -> None:
    row["agreement_recorded_at"] = e.timestamp
    row["agreement"] = {
        "meeting_frequency": e.meeting_frequency,
        "ground_rules_agreed": e.ground_rules_agreed,
        "confidentiality_agreed": e.confidentiality_agreed,
        "recorded_at": e.timestamp.isoformat(),
    }


def _paused(row: Row, e: Any) -> None:
    row.update(
        paused=True,
        pause_reason=None if e.reason_category == ERASED else e.reason_category,
        paused_until=e.until,
    )


def _resumed(row: Row, e: Any) -> None:
    row.update(paused=False, pause_reason=None, paused_until=None)


def _stall_flagged(row: Row, e: Any) -> None:
    row.update(stalled=True, stall_reason=e.reason, stalled_since=e.timestamp)


def _stall_cleared(row: Row, e: Any) -> None:
    row.update(stalled=False, stall_reason=None, stalled_since=None)
    row.update(escalated=False, escalated_at=None)


def _ended(row: Row, e: Any) -> None:
    _stall_cleared(row, e)
    row.update(state="ended", end_kind=e.kind, ended_at=e.timestamp, paused=False)


def _extended(row: Row, e: Any) -> None:
    row.update(planned_end=e.planned_end, end_due=False)


R = Relationship
_HANDLERS: dict[type[Relationship.Event], Callable[[Row, Any], None]] = {
    R.MentorInvited: _mentor_invited,
    R.Matched: _matched,
    R.InvitationAccepted: _accepted,
    R.InvitationDeclined: _back_to_requested("invitations_declined"),
    R.InvitationLapsed: _back_to_requested("invitations_lapsed"),
    R.InvitationWithdrawn: _back_to_requested("invitations_withdrawn"),
    R.MeetingLogged: _meeting_logged,
    R.AgreementRecorded: _agreement_recorded,
    R.StallFlagged: _stall_flagged,
    R.StallCleared: _stall_cleared,
    R.Escalated: lambda row, e: row.update(escalated=True, escalated_at=e.timestamp),
    R.Paused: _paused,
    R.Resumed: _resumed,
    R.Extended: _extended,
    R.MidpointDue: lambda row, e: row.update(midpoint_due=True),
    R.EndOfSchemeDue: lambda row, e: row.update(end_due=True),
    R.Ended: _ended,
    R.Rematched: lambda row, e: row.update(state="rematched", rematched_to=e.new_relationship_id),
    R.PartyErased: lambda row, e: row.update(rationale=None, pause_reason=None),
}
