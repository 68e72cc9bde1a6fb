"""Erasure of a person (UK GDPR Article 17) by crypto-shredding (services.keys).

`erase_person` refuses while the person has an open relationship; otherwise it
destroys their key and their relationships' keys, records `Erased` on their record
(who, when, under what reason or rule: no personal data) and, in the same write,
`PartyErased` on each of their relationships (so that every process holding one in
memory drops its match rationale and pause reason when it next reads it) and, for
a mentee, the anonymous record the equity counts need of them
(domain.equity_record), and scrubs the tables
outside the event store that held their details in a readable form: the stored
responses of the idempotency store, sign-in links, a staff account of the same
email, their API tokens' labels, the delivery log's errors and the mail files of
the embedded default. The reporting tables are the `erasure` projection's
(projections.erasure).
"""

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Cipher
from psycopg_pool import ConnectionPool

from domain.actors import Actor
from domain.equity_record import AnonymousEquityRecord
from domain.errors import DomainError
from domain.people import Mentee, Mentor
from domain.privacy import ERASED
from domain.relationship import Relationship
from domain.scheme import Scheme
from services.application import Mentoring, Saved
from services.errors import NotFound

# The rule retention erases under (Actor.system(RETENTION_RULE)).
RETENTION_RULE = "retention_after_end"


@dataclass(frozen=True)
class PersonalValues:
    """The values of a person's record that identify or describe them, taken before
    the erasure, to find them in tables outside the event store."""

    email: str
    values: tuple[str, ...]


def find_person(mentoring: Mentoring, person_id: UUID) -> Mentor | Mentee:
    """The mentor or mentee with this id (NotFound for neither)."""
    try:
        return mentoring.get_mentor(person_id)
    except NotFound:
        pass
    try:
        return mentoring.get_mentee(person_id)
    except NotFound:
        raise NotFound("person", person_id) from None


def relationships_of(mentoring: Mentoring, person_id: UUID) -> list[Relationship]:
    """Every relationship the person is the mentee or the mentor of. Reads every
    relationship: erasure is rare."""
    found = []
    for _, relationship in mentoring.all_of(Relationship):
        if person_id in (relationship.mentee_id, relationship.mentor_id):
            found.append(relationship)
    return found


def counted_beside(mentoring: Mentoring, mentee: Mentee) -> list[dict[str, str] | None]:
    """The demographics of everyone else the equity report counts in the mentee's
    scheme: its other mentees not erased, and the anonymous records of those erased
    before. Reads every mentee and record: erasure is rare."""
    others: list[dict[str, str] | None] = [
        other.demographics
        for _, other in mentoring.all_of(Mentee)
        if other.scheme_id == mentee.scheme_id and other.id != mentee.id and not other.erased
    ]
    others += [
        record.demographics
        for _, record in mentoring.all_of(AnonymousEquityRecord)
        if record.scheme_id == mentee.scheme_id
    ]
    return others


def personal_values(person: Mentor | Mentee) -> PersonalValues:
    values = [person.name, person.email]
    if isinstance(person, Mentee):
        values += list(person.objectives)
        values += [str(v) for v in (person.demographics or {}).values()]
    return PersonalValues(person.email, tuple(v for v in values if v and v != ERASED))


def erase_person(
    mentoring: Mentoring,
    pool: ConnectionPool,
    person_id: UUID,
    reason: str,
    actor: Actor,
    *,
    mail_directory: Path | None = None,
) -> Saved[Mentor | Mentee]:
    """Erase the person (once: erasing them again changes nothing). Raises NotFound,
    and DomainError (409) while one of their relationships is open."""
    person = find_person(mentoring, person_id)
    if person.erased:
        return Saved(person, 0)
    relationships = relationships_of(mentoring, person_id)
    if any(relationship.is_open for relationship in relationships):
        raise DomainError("the person has an open relationship; end it before erasing them")
    found = personal_values(person)
    # Read before the keys go: the demographics are under the mentee's key.
    of_mentee = [r for r in relationships if r.mentee_id == person_id]
    anonymous = (
        [
            AnonymousEquityRecord.of(
                person.scheme_id, person.demographics, of_mentee, counted_beside(mentoring, person)
            )
        ]
        if isinstance(person, Mentee)
        else []
    )
    subject_ids = [person_id] + [relationship.id for relationship in relationships]
    # Keys first: if saving the record fails, erasing again records it. Then wait
    # until no process still holds a key it read (services.keys.KEY_CACHE_SECONDS).
    mentoring.keys.destroy(subject_ids)
    time.sleep(mentoring.keys.cache_seconds)
    person.erase(reason, subject_ids, actor)
    # Read again: they may have changed meanwhile (feedback given on an ended pair).
    pairs = [mentoring.get_relationship(relationship.id) for relationship in relationships]
    for pair in pairs:
        pair.record_party_erased(party_of(pair, person_id), actor)
    saved: Saved[Mentor | Mentee] = Saved(person, mentoring._save(*anonymous, person, *pairs))
    scrub_tables(pool, mentoring.mapper.cipher, person_id, found)
    if mail_directory is not None:
        scrub_mail_files(mail_directory, found)
    return saved


def party_of(relationship: Relationship, person_id: UUID) -> str:
    """Whether the person is the relationship's mentee or its mentor."""
    return "mentee" if relationship.mentee_id == person_id else "mentor"


def expired_people(mentoring: Mentoring, now: datetime) -> list[tuple[UUID, Scheme]]:
    """Who the retention rule has come due for at `now`, with their scheme: people
    not yet erased, in a scheme with `retention_after_end`, who had relationships,
    none of them open, the last ended longer ago than that. Reads every record:
    it runs once a day."""
    schemes = {scheme.id: scheme for _, scheme in mentoring.all_of(Scheme) if scheme.retention()}
    if not schemes:
        return []
    ended: dict[UUID, list[datetime | None]] = {}
    for _, relationship in mentoring.all_of(Relationship):
        if relationship.scheme_id not in schemes:
            continue
        end = None if relationship.is_open else relationship.ended_at or relationship.modified_on
        for person_id in (relationship.mentee_id, relationship.mentor_id):
            if person_id is not None:
                ended.setdefault(person_id, []).append(end)
    due = []
    people: list[Mentor | Mentee] = [person for _, person in mentoring.all_of(Mentor)]
    people += [person for _, person in mentoring.all_of(Mentee)]
    for person in people:
        ends = ended.get(person.id)
        if person.erased or not ends or None in ends:
            continue
        scheme = schemes[person.scheme_id]
        retention = scheme.retention()
        assert retention is not None
        if max(e for e in ends if e is not None) + retention <= now:
            due.append((person.id, scheme))
    return due


def erase_expired(
    mentoring: Mentoring, pool: ConnectionPool, now: datetime, mail: Path | None = None
) -> int:
    """Erase everyone the retention rule has come due for at `now`, as the system's
    act under that rule; how many. Someone whose relationship opened meanwhile is
    left for another day."""
    erased = 0
    for person_id, scheme in expired_people(mentoring, now):
        reason = f"{RETENTION_RULE} {scheme.retention_after_end}"
        try:
            erase_person(
                mentoring,
                pool,
                person_id,
                reason,
                Actor.system(RETENTION_RULE),
                mail_directory=mail,
            )
        except DomainError:
            continue
        erased += 1
    return erased


def scrub_tables(
    pool: ConnectionPool, cipher: Cipher | None, person_id: UUID, found: PersonalValues
) -> None:
    """Remove the person's details from the tables beside the event store (those
    this database has: a worker's may lack the API's)."""
    with pool.connection() as connection, connection.transaction():
        present = {
            name
            for (name,) in connection.execute(
                "SELECT table_name::text FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        }
        if "mentoring_idempotency" in present:
            _scrub_stored_responses(connection, cipher, person_id, found)
        statements = {
            "web_sign_in_links": (
                "DELETE FROM web_sign_in_links WHERE lower(email) = lower(%s)",
                (found.email,),
            ),
            "web_sessions": (
                "UPDATE web_sessions SET ended_at = now()"
                " WHERE subject_id = %s AND ended_at IS NULL",
                (person_id,),
            ),
            "mentoring_tokens": (
                "UPDATE mentoring_tokens SET label = %s,"
                " revoked_at = coalesce(revoked_at, now()) WHERE subject_id = %s",
                (ERASED, person_id),
            ),
            "staff_accounts": (
                "UPDATE staff_accounts SET name = %s, email = %s || id::text, active = false"
                " WHERE lower(email) = lower(%s)",
                (ERASED, "erased-", found.email),
            ),
        }
        for table, (statement, parameters) in statements.items():
            if table in present:
                connection.execute(statement, parameters)
        if "notification_deliveries" in present:
            for value in found.values:
                connection.execute(
                    "UPDATE notification_deliveries SET last_error = replace(last_error, %s, %s)"
                    " WHERE recipient_id = %s AND last_error IS NOT NULL",
                    (value, ERASED, person_id),
                )


def _scrub_stored_responses(
    connection: Any, cipher: Cipher | None, person_id: UUID, found: PersonalValues
) -> None:
    """The idempotency store's responses about the person, with their values replaced
    (a replayed request answers as the record reads now)."""
    rows = connection.execute(
        "SELECT token_hash, key, body FROM mentoring_idempotency WHERE body IS NOT NULL"
    ).fetchall()
    for token_hash, key, stored in rows:
        body = bytes(stored)
        plain = cipher.decrypt(body) if cipher is not None else body
        if str(person_id).encode() not in plain:
            continue
        scrubbed = _replace_all(plain, found.values)
        connection.execute(
            "UPDATE mentoring_idempotency SET body = %s WHERE token_hash = %s AND key = %s",
            (cipher.encrypt(scrubbed) if cipher is not None else scrubbed, token_hash, key),
        )


def scrub_mail_files(directory: Path, found: PersonalValues) -> int:
    """Delete the embedded default's copies of mail sent to the person (`.eml` files
    naming their email); the number deleted. The mail itself was delivered: the
    recipients' own copies are theirs to delete."""
    deleted = 0
    for path in directory.glob("*.eml"):
        if found.email.lower().encode() in path.read_bytes().lower():
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def _replace_all(body: bytes, values: Iterable[str]) -> bytes:
    for value in sorted(values, key=len, reverse=True):
        body = body.replace(_json_text(value), ERASED.encode())
    return body


def _json_text(value: str) -> bytes:
    """A string as it appears inside a JSON document."""
    quoted: Any = json.dumps(value)
    return str(quoted)[1:-1].encode()
