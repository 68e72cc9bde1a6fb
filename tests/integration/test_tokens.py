"""The token store on PostgreSQL, on a clock the test sets: tokens expire, record
their last use at most once a minute, are trusted for a second once found valid,
and a table of the previous release is brought up to date in place with its
tokens still working."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from services.auth import BOOTSTRAP_TOKEN_ID, TRUSTED_FOR, TokenStore, hash_token
from tests.support.clock import START, Clock

pytestmark = pytest.mark.postgres

# mentoring_tokens as the release before expiry made it.
PREVIOUS_RELEASE_TABLE = """
CREATE TABLE mentoring_tokens (
    id uuid PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    role text NOT NULL,
    subject_id uuid,
    scheme_ids jsonb NOT NULL DEFAULT '[]',
    label text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool]:
    with ConnectionPool(database_url, min_size=1, kwargs={"autocommit": True}) as pool:
        yield pool


def last_used(store: TokenStore, token_id: object) -> datetime | None:
    (record,) = [t for t in store.tokens() if t.id == token_id]
    return record.last_used_at


def test_a_token_works_until_it_expires_and_is_then_listed_as_expired(
    pool: ConnectionPool,
) -> None:
    clock = Clock()
    store = TokenStore(pool, clock=clock)
    issued = store.issue("reporter", "board", lifetime=timedelta(days=1))
    assert issued.expires_at == START + timedelta(days=1)

    clock.now = START + timedelta(days=1) - timedelta(seconds=1)
    principal = store.resolve(issued.secret)
    assert principal is not None and principal.role == "reporter"
    assert [t.status for t in store.tokens()] == ["active"]
    clock.now = START + timedelta(days=1)
    assert store.resolve(issued.secret) is None
    assert [t.status for t in store.tokens()] == ["expired"]


def test_last_use_is_written_at_most_once_a_minute(pool: ConnectionPool) -> None:
    clock = Clock()
    store = TokenStore(pool, clock=clock)
    issued = store.issue("auditor", "governance")
    assert last_used(store, issued.id) is None

    store.resolve(issued.secret)
    assert last_used(store, issued.id) == START
    clock.now = START + timedelta(seconds=59)
    store.resolve(issued.secret)
    assert last_used(store, issued.id) == START
    clock.now = START + timedelta(minutes=1)
    store.resolve(issued.secret)
    assert last_used(store, issued.id) == START + timedelta(minutes=1)


def test_a_revoked_token_is_refused_and_keeps_the_time_it_was_first_revoked(
    pool: ConnectionPool,
) -> None:
    clock = Clock()
    store = TokenStore(pool, clock=clock)
    issued = store.issue("admin", "deputy")
    assert store.revoke(issued.id)
    assert store.resolve(issued.secret) is None
    clock.now = START + timedelta(hours=1)
    assert store.revoke(issued.id)
    (record,) = store.tokens()
    assert (record.status, record.revoked_at) == ("revoked", START)
    assert not store.revoke(uuid4())


def revoke_elsewhere(database_url: str, token_id: object) -> None:
    """Revoke the token as another process would: in the database only."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "UPDATE mentoring_tokens SET revoked_at = now() WHERE id = %s", (token_id,)
        )


def test_a_token_revoked_elsewhere_is_trusted_for_at_most_a_second(
    pool: ConnectionPool, database_url: str
) -> None:
    clock = Clock()
    store = TokenStore(pool, clock=clock)
    issued = store.issue("auditor", "governance")
    assert store.resolve(issued.secret) is not None
    revoke_elsewhere(database_url, issued.id)

    clock.now = START + TRUSTED_FOR - timedelta(microseconds=1)
    trusted = store.trusted(issued.secret)
    assert trusted is not None and trusted.token_id == str(issued.id)
    assert store.resolve(issued.secret) == trusted
    clock.now = START + TRUSTED_FOR
    assert store.trusted(issued.secret) is None
    assert store.resolve(issued.secret) is None


def test_a_token_is_not_trusted_past_its_expiry_nor_on_a_clock_set_back(
    pool: ConnectionPool, database_url: str
) -> None:
    clock = Clock()
    store = TokenStore(pool, clock=clock)
    lifetime = timedelta(days=1)
    issued = store.issue("auditor", "governance", lifetime=lifetime)
    clock.now = START + lifetime - TRUSTED_FOR / 2
    assert store.resolve(issued.secret) is not None
    clock.now = START + lifetime
    assert store.trusted(issued.secret) is None

    clock.now = START
    assert store.resolve(issued.secret) is not None
    revoke_elsewhere(database_url, issued.id)
    clock.now = START - timedelta(seconds=1)
    assert store.trusted(issued.secret) is None
    assert store.resolve(issued.secret) is None


def test_revoking_through_the_store_ends_its_trust_at_once(pool: ConnectionPool) -> None:
    clock = Clock()
    store = TokenStore(pool, clock=clock)
    issued = store.issue("auditor", "governance")
    kept = store.issue("auditor", "another")
    assert store.resolve(issued.secret) is not None
    assert store.resolve(kept.secret) is not None
    assert store.revoke(issued.id)
    assert store.trusted(issued.secret) is None
    assert store.resolve(issued.secret) is None
    assert store.trusted(kept.secret) is not None


def test_the_bootstrap_admin_token_never_expires_and_is_not_listed(pool: ConnectionPool) -> None:
    clock = Clock()
    store = TokenStore(pool, admin_token="configured-admin-token", clock=clock)
    clock.now = START + timedelta(days=3650)
    principal = store.resolve("configured-admin-token")
    assert principal is not None
    assert (principal.role, principal.token_id) == ("admin", BOOTSTRAP_TOKEN_ID)
    assert store.tokens() == []
    assert store.resolve("configured-admin-tokeN") is None
    assert store.resolve("configured-admin-tökeN") is None


def test_a_table_of_the_previous_release_is_migrated_and_its_tokens_keep_working(
    pool: ConnectionPool, database_url: str
) -> None:
    token_id, secret = uuid4(), "mtk_issued-by-the-previous-release"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(PREVIOUS_RELEASE_TABLE)
        connection.execute(
            "INSERT INTO mentoring_tokens (id, token_hash, role, label, created_at)"
            " VALUES (%s, %s, 'auditor', 'governance', '2025-01-06T09:00Z')",
            (token_id, hash_token(secret)),
        )
    before = datetime.now(UTC)

    store = TokenStore(pool)
    principal = store.resolve(secret)
    assert principal is not None and principal.token_id == str(token_id)
    (record,) = store.tokens()
    assert record.created_at == datetime(2025, 1, 6, 9, tzinfo=UTC)
    assert before + timedelta(days=90) <= record.expires_at
    assert record.expires_at <= datetime.now(UTC) + timedelta(days=90)
    assert record.status == "active" and record.last_used_at is not None

    # Again, as every process does when it starts: nothing changes.
    assert TokenStore(pool).tokens() == store.tokens()
