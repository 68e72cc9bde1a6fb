"""`reporting.audit_log`: every event, who caused it and when, hash chained.

Each row's `hash` is SHA-256 over the previous row's hash and the row's own
canonical JSON, so altering, inserting or deleting a row breaks the chain from
there on (`verify_chain`). What a row shows:
- `details`: the event's attributes minus its personal fields and its sealed
  fields, as its class classifies them (`domain.privacy`); of survey answers, only
  the ids of the questions answered;
- `sealed`: the sealed fields (who ended a relationship without blame, and why;
  the actor of the mentee's `RequestClosed` and the mentor's `PlaceReleased`, saved
  with that ending), readable by auditors only.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from domain.actors import Actor
from domain.privacy import personal_fields, sealed_fields
from domain.relationship import Relationship
from projections.events import event_name
from projections.view import (
    Positioned,
    ReportingProjection,
    ReportingView,
    create_table_sql,
    json_encoding,
)

GENESIS_HASH = "0" * 64
AUDIT_COLUMNS: dict[str, str] = {
    "position": "bigint PRIMARY KEY",
    "recorded_at": "timestamptz NOT NULL",
    "aggregate_type": "text NOT NULL",
    "aggregate_id": "uuid NOT NULL",
    "aggregate_version": "integer NOT NULL",
    "event_type": "text NOT NULL",
    "actor_role": "text",
    "actor_id": "text",
    "details": "jsonb NOT NULL",
    "sealed": "jsonb",
    "previous_hash": "text NOT NULL",
    "hash": "text NOT NULL",
}
HASHED = tuple(column for column in AUDIT_COLUMNS if column not in ("previous_hash", "hash"))

ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp"})


def plain(value: Any) -> Any:
    """A JSON value for an event attribute (ids, dates and actors as strings/objects)."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {str(key): plain(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [plain(item) for item in value]
    if kind is UUID:
        return str(value)
    if kind is datetime:
        return value.astimezone(UTC).isoformat()
    if kind is date:
        return value.isoformat()
    if kind is Actor:
        return {"role": value.role, "id": value.id}
    return _plain_subclass(value)


_AS_IS = frozenset({str, int, float, bool, type(None)})


def _plain_subclass(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_quoted = json.encoder.encode_basestring
_encode = json_encoding(_ENCODER)


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 as is."""
    if type(value) is str:
        return str(_quoted(value))
    if value is None:
        return "null"
    return _encode(value)


def chain_hash(previous_hash: str, row: Mapping[str, Any]) -> str:
    """SHA-256, as hex, over the previous hash followed by the canonical JSON array
    of the row's hashed columns (`HASHED`), ids and times as strings."""
    return _hash(previous_hash, canonical([plain(row[column]) for column in HASHED]))


def _hash(previous_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{previous_hash}{payload}".encode()).hexdigest()


@dataclass(frozen=True)
class _AuditRules:
    """What the audit log takes from every event of one class."""

    kind: str  # `Relationship.Matched`
    aggregate_type: str  # `Relationship`
    omitted: frozenset[str]  # attributes left out of `details`
    sealed: tuple[str, ...]  # attributes in `sealed`, sorted
    lists_questions: bool  # `details` lists the ids of the questions answered


@cache
def _rules(event_class: type) -> _AuditRules:
    """The audit rules of an event class, worked out once per class."""
    sealed = sealed_fields(event_class)
    kind = event_name(event_class)
    return _AuditRules(
        kind=kind,
        aggregate_type=kind.split(".", 1)[0],
        omitted=frozenset(ENVELOPE | {"actor"} | sealed | personal_fields(event_class)),
        sealed=tuple(sorted(sealed)),
        lists_questions=issubclass(event_class, Relationship.FeedbackGiven),
    )


def audit_rows(events: Iterable[Positioned], previous_hash: str) -> Iterator[tuple[Any, ...]]:
    """The audit rows of events in position order, chained from `previous_hash`, as
    tuples of the AUDIT_COLUMNS values (JSON, ids and times as text).

    The hashed text is written out here piece by piece for speed; it is exactly the
    text `chain_hash` builds from a stored row (`verify_chain` depends on it)."""
    as_is = _AS_IS
    for event, position in events:
        rules = _rules(event.__class__)
        kind = rules.kind
        omitted = rules.omitted
        attributes = vars(event)
        details = {
            key: value if type(value) in as_is else plain(value)
            for key, value in attributes.items()
            if key not in omitted
        }
        if rules.lists_questions:
            details["questions"] = sorted(attributes["answers"])
        actor = attributes.get("actor")
        sealed_text = None
        if rules.sealed:
            sealed_text = canonical({field: plain(attributes.get(field)) for field in rules.sealed})
            if "actor" in rules.sealed:
                actor = None
        role, actor_id = (actor.role, actor.id) if actor else (None, None)
        recorded_at = event.timestamp.astimezone(UTC).isoformat()
        aggregate_id = str(event.originator_id)
        version = event.originator_version
        details_text = canonical(details)
        payload = (
            f"[{position},{_quoted(recorded_at)},{_quoted(rules.aggregate_type)},"
            f"{_quoted(aggregate_id)},{version},{_quoted(kind)},{canonical(role)},"
            f"{canonical(actor_id)},{details_text},{sealed_text or 'null'}]"
        )
        row_hash = _hash(previous_hash, payload)
        yield (
            position,
            recorded_at,
            rules.aggregate_type,
            aggregate_id,
            version,
            kind,
            role,
            actor_id,
            details_text,
            sealed_text,
            previous_hash,
            row_hash,
        )
        previous_hash = row_hash


def verify_chain(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Check rows in position order: `{ok, rows, first_bad_row}` where first_bad_row
    is the position of the first row whose hashes do not follow (None if ok)."""
    expected_previous = GENESIS_HASH
    count = 0
    for row in rows:
        count += 1
        if row["previous_hash"] != expected_previous or row["hash"] != chain_hash(
            expected_previous, row
        ):
            return {"ok": False, "rows": count, "first_bad_row": row["position"]}
        expected_previous = row["hash"]
    return {"ok": True, "rows": count, "first_bad_row": None}


class AuditView(ReportingView):
    tables = ("audit_log",)
    ddl = (
        create_table_sql("audit_log", AUDIT_COLUMNS),
        "CREATE INDEX IF NOT EXISTS audit_log_aggregate "
        "ON reporting.audit_log (aggregate_id, position)",
        "CREATE INDEX IF NOT EXISTS audit_log_recorded ON reporting.audit_log (recorded_at)",
    )


class AuditProjection(ReportingProjection):
    """Reads every event (no topic filter): a new kind of event is audited unchanged."""

    name = "audit_log"
    topics = ()
    view_class = AuditView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        curs.execute("SELECT hash FROM reporting.audit_log ORDER BY position DESC LIMIT 1")
        last = curs.fetchone()
        previous_hash = last["hash"] if last else GENESIS_HASH
        statement = SQL("COPY reporting.audit_log ({0}) FROM STDIN").format(
            SQL(", ").join(Identifier(column) for column in AUDIT_COLUMNS)
        )
        with curs.copy(statement) as copy:
            for row in audit_rows(events, previous_hash):
                copy.write_row(row)
