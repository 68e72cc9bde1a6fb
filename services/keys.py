"""Per-person keys: crypto-shredding of the personal fields of stored events.

The personal and special-category fields of an event (domain.privacy) are encrypted
with AES-GCM under a key of the event's originator (the person, or the pair for a
relationship's pause reasons and survey answers) before the event is stored; the
rest of the event stays as it was, so ids, states and dates still serve matching,
timers and counts. The keys are held in `person_keys`, each encrypted with the
service's own cipher when MENTORING_CIPHER_KEY is set. Destroying a subject's key
erases their personal fields from every event ever stored: they read as `ERASED`
(an empty list or object for fields of those types).

An encrypted field is stored as `{"__personal__": subject id, "t": type, "v": data}`;
a field of the previous release (plain) reads as it was until `mentoring keys
migrate` re-encrypts it (services.key_migration).
"""

import base64
import os
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from typing import Any, Protocol, cast
from uuid import UUID

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol, Snapshot
from eventsourcing.persistence import Cipher, Mapper, StoredEvent, Transcoder
from eventsourcing.utils import resolve_topic
from psycopg_pool import ConnectionPool

from domain.people import Mentee, Mentor
from domain.privacy import ERASED, keyed_fields
from domain.relationship import Relationship

MARK = "__personal__"
NONCE_BYTES = 12

# The attributes of each aggregate that a snapshot of it holds personal data in, and
# the type their erased value takes ("none": None, so that a pause reason or a
# rationale reads as absent).
SNAPSHOT_PERSONAL: dict[type, dict[str, str]] = {
    Mentor: {"name": "str", "email": "str"},
    Mentee: {"name": "str", "email": "str", "objectives": "list", "demographics": "none"},
    Relationship: {"rationale": "none", "pause_reason": "none"},
}

PERSON_KEYS_TABLE = """
CREATE TABLE IF NOT EXISTS person_keys (
    subject_id uuid PRIMARY KEY,
    key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


class Datastore(Protocol):
    """What eventsourcing's PostgresDatastore offers: its connection pool, whose
    settings the key table's own pool takes."""

    pool: ConnectionPool[Any]


# How long a process may go on using a key it read: an erasure waits this long
# between destroying the keys and recording the erasure (services.erasure), so that
# no process reads the person's data with a key it had already read once the
# erasure is recorded. A destroyed key is remembered for good.
KEY_CACHE_SECONDS = 1.0
KEY_CACHE_SIZE = 100_000


class PersonKeys:
    """The key table. In memory when no datastore is given (unit tests on POPO).
    Keys read are kept for KEY_CACHE_SECONDS."""

    cache_seconds = KEY_CACHE_SECONDS

    def __init__(self, datastore: Datastore | None, cipher: Cipher | None) -> None:
        self.cipher = cipher
        self._memory: dict[UUID, bytes] = {}
        self._lock = threading.Lock()
        self._cache: dict[UUID, tuple[float, bytes]] = {}
        # A pool of its own: a key is looked up while the event store's reader may
        # hold its connection, and sharing that pool could leave every reader
        # waiting for a second connection.
        self.pool: ConnectionPool[Any] | None = None
        if datastore is not None:
            self.pool = ConnectionPool(
                kwargs=dict(cast(dict[str, Any], datastore.pool.kwargs)) | {"autocommit": True},
                min_size=0,
                max_size=4,
                open=True,
            )
            try:
                with self.pool.connection() as connection:
                    connection.execute(PERSON_KEYS_TABLE)
            except (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
                pass  # made by another process or thread at the same moment

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    def find(self, subject_id: UUID) -> bytes | None:
        """The subject's key, or None when it was destroyed (or never made)."""
        if self.pool is None:
            return self._memory.get(subject_id)
        cached = self._cached(subject_id)
        if cached is not None:
            return cached
        with self.pool.connection() as connection:
            row = connection.execute(
                "SELECT key FROM person_keys WHERE subject_id = %s", (subject_id,)
            ).fetchone()
        if row is None:
            return None
        return self._remember(subject_id, self._open(bytes(row["key"])))

    def find_many(self, subject_ids: Collection[UUID]) -> dict[UUID, bytes | None]:
        """The keys of many subjects (None for a destroyed one): those kept from the
        last KEY_CACHE_SECONDS as `find` keeps them, the rest in one query."""
        if self.pool is None:
            return {subject_id: self._memory.get(subject_id) or None for subject_id in subject_ids}
        now = time.monotonic()
        with self._lock:
            found: dict[UUID, bytes | None] = {
                subject_id: entry[1] or None
                for subject_id in subject_ids
                if (entry := self._cache.get(subject_id)) is not None and entry[0] >= now
            }
        wanted = [subject_id for subject_id in subject_ids if subject_id not in found]
        if wanted:
            with self.pool.connection() as connection:
                rows = connection.execute(
                    "SELECT subject_id, key FROM person_keys WHERE subject_id = ANY(%s)",
                    (wanted,),
                ).fetchall()
            for row in rows:
                found[row["subject_id"]] = (
                    self._remember(row["subject_id"], self._open(bytes(row["key"]))) or None
                )
        return found

    def key_for(self, subject_id: UUID) -> bytes | None:
        """The subject's key, made now if they have none yet; None if it was destroyed
        (a tombstone row is kept so that an erased subject never gets a new key)."""
        if self.pool is None:
            with self._lock:
                if subject_id not in self._memory:
                    self._memory[subject_id] = AESGCM.generate_key(bit_length=256)
                key = self._memory[subject_id]
            return key or None
        cached = self._cached(subject_id)
        if cached is not None:
            return cached or None
        new = AESGCM.generate_key(bit_length=256)
        with self.pool.connection() as connection:
            connection.execute(
                "INSERT INTO person_keys (subject_id, key) VALUES (%s, %s)"
                " ON CONFLICT (subject_id) DO NOTHING",
                (subject_id, self._seal(new)),
            )
            row = connection.execute(
                "SELECT key FROM person_keys WHERE subject_id = %s", (subject_id,)
            ).fetchone()
        assert row is not None
        return self._remember(subject_id, self._open(bytes(row["key"]))) or None

    def destroy(self, subject_ids: Iterable[UUID]) -> None:
        """Destroy the subjects' keys for good: an empty key is left in their place."""
        ids = list(subject_ids)
        with self._lock:
            for subject_id in ids:
                self._memory[subject_id] = b""
                self._cache[subject_id] = (float("inf"), b"")
        if self.pool is None:
            return
        with self.pool.connection() as connection, connection.transaction():
            for subject_id in ids:
                connection.execute(
                    "INSERT INTO person_keys (subject_id, key) VALUES (%s, '')"
                    " ON CONFLICT (subject_id) DO UPDATE SET key = ''",
                    (subject_id,),
                )

    def _cached(self, subject_id: UUID) -> bytes | None:
        with self._lock:
            entry = self._cache.get(subject_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def _remember(self, subject_id: UUID, key: bytes) -> bytes:
        """Keep a key read for KEY_CACHE_SECONDS (an empty, destroyed one for good)."""
        until = float("inf") if not key else time.monotonic() + self.cache_seconds
        with self._lock:
            if len(self._cache) >= KEY_CACHE_SIZE:
                self._cache = {k: v for k, v in self._cache.items() if not v[1]}
            self._cache[subject_id] = (until, key)
        return key

    def _seal(self, key: bytes) -> bytes:
        return self.cipher.encrypt(key) if self.cipher is not None else key

    def _open(self, stored: bytes) -> bytes:
        if not stored:
            return b""
        return self.cipher.decrypt(stored) if self.cipher is not None else stored


def erased_value(kind: str) -> Any:
    """What an erased field reads as, by the type it had."""
    return {"str": ERASED, "list": [], "dict": {}}.get(kind)


class PersonalMapper(Mapper[UUID]):
    """eventsourcing's Mapper, with the personal fields of each event encrypted under
    its originator's key (services.keys). `keys` is set by the application once it
    has a datastore (Mentoring.construct_mapper)."""

    keys: PersonKeys

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Any = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self.keys = PersonKeys(None, cipher)

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        if isinstance(domain_event, Snapshot):
            return self._snapshot_to_stored(domain_event)
        fields = keyed_fields(domain_event)
        if not fields:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        subject_id = state["originator_id"]
        key = self.keys.key_for(subject_id)
        for field in fields & state.keys():
            state[field] = seal_value(self.transcoder, key, subject_id, state[field])
        return super().to_stored_event(_with_state(domain_event, state))

    def _snapshot_to_stored(self, snapshot: Snapshot) -> StoredEvent:
        """A snapshot with the personal attributes of its aggregate sealed."""
        personal = SNAPSHOT_PERSONAL.get(resolve_topic(snapshot.topic), {})
        state = dict(vars(snapshot))
        aggregate = dict(state["state"])
        subject_id = state["originator_id"]
        if personal.keys() & aggregate.keys():
            key = self.keys.key_for(subject_id)
            for name, kind in personal.items():
                if name in aggregate:
                    aggregate[name] = seal_value(
                        self.transcoder, key, subject_id, aggregate[name], kind
                    )
        state["state"] = aggregate
        return super().to_stored_event(_with_state(snapshot, state))

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        sealed = _sealed_in(domain_event)
        if sealed:
            key = self.keys.find(vars(domain_event)["originator_id"])
            self._open_sealed(key, sealed)
        return domain_event

    def to_domain_events(
        self, stored_events: Sequence[StoredEvent]
    ) -> list[DomainEventProtocol[UUID]]:
        """Decode a page of events with one look-up for the keys of all their
        subjects (what the projections read). The keys are read after the events
        were, and an erasure is recorded KEY_CACHE_SECONDS after its keys are
        destroyed, so an erasure recorded before any of these events reads as erased
        in all of them; one recorded later is met by its own `Erased` event further
        on (projections.erasure)."""
        decoded = [super(PersonalMapper, self).to_domain_event(s) for s in stored_events]
        sealed = [(event, found) for event in decoded if (found := _sealed_in(event))]
        if sealed:
            keys = self.keys.find_many({vars(event)["originator_id"] for event, _ in sealed})
            for event, found in sealed:
                self._open_sealed(keys.get(vars(event)["originator_id"]), found)
        return decoded

    def _open_sealed(self, key: bytes | None, sealed: list[tuple[dict[str, Any], str]]) -> None:
        for container, name in sealed:
            container[name] = open_value(self.transcoder, key, container[name])


def _sealed_in(domain_event: Any) -> list[tuple[dict[str, Any], str]]:
    """The sealed fields of a decoded event (and of a snapshot's state), as
    (container, name)."""
    state = vars(domain_event)
    inner = state.get("state") if isinstance(domain_event, Snapshot) else None
    containers = [state] + ([inner] if isinstance(inner, dict) else [])
    return [(c, name) for c in containers for name, value in c.items() if is_sealed(value)]


def _with_state(domain_event: Any, state: dict[str, Any]) -> Any:
    """An event of the same class with another state, to encode."""
    shadow = object.__new__(type(domain_event))
    object.__setattr__(shadow, "__dict__", state)
    return shadow


def seal_value(
    transcoder: Transcoder,
    key: bytes | None,
    subject_id: UUID,
    value: Any,
    kind: str | None = None,
) -> Any:
    """A personal value encrypted under the subject's key (already sealed values and
    None stay as they are; without a key, the subject is erased: the marker). `kind`
    names the type of its erased value (by default, the value's own type)."""
    if value is None or is_sealed(value):
        return value
    kind = kind or type(value).__name__
    if key is None:
        return erased_value(kind)
    nonce = os.urandom(NONCE_BYTES)
    data = nonce + AESGCM(key).encrypt(nonce, transcoder.encode(value), subject_id.bytes)
    return {MARK: str(subject_id), "t": kind, "v": base64.b64encode(data).decode()}


def open_value(transcoder: Transcoder, key: bytes | None, sealed: dict[str, Any]) -> Any:
    """The value of a sealed field, or the erased marker once its key is gone."""
    if not key:
        return erased_value(sealed["t"])
    data = base64.b64decode(sealed["v"])
    subject_id = UUID(sealed[MARK])
    plain = AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], subject_id.bytes)
    return transcoder.decode(plain)


def is_sealed(value: object) -> bool:
    return isinstance(value, dict) and MARK in value and len(value) == 3
