"""The notification outbox: what someone should be told, kept in PostgreSQL until
the sender (services.mail.sender) delivers it. Ids and kinds only; the sender looks
up names and addresses when it sends.

Who hears (`audience`): the scheme's `coordinator`s, the `pair` (mentor and
mentee), or one of them (`mentor`, `mentee`). `as_of_version` is the relationship's
version the notice is about when it follows an event (the invitation goes to the
mentor invited then); None means its current version. `sent_at` is when the sender
took the notice and recorded a delivery for each recipient
(`notification_deliveries`).
"""

from typing import Any

from psycopg_pool import ConnectionPool

from workflows.model import Notice

AUDIENCES = ("coordinator", "pair", "mentor", "mentee")

CREATE_OUTBOX = """
CREATE TABLE IF NOT EXISTS notification_outbox (
    id bigserial PRIMARY KEY,
    relationship_id uuid NOT NULL,
    audience text NOT NULL,
    kind text NOT NULL,
    dedupe_key text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    UNIQUE (relationship_id, kind, dedupe_key)
);
ALTER TABLE notification_outbox ADD COLUMN IF NOT EXISTS as_of_version integer;
DO $$ BEGIN
    -- Tables of the previous release allowed the coordinator and the pair only.
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conname = 'notification_outbox_audience_check'
            AND pg_get_constraintdef(oid) LIKE '%mentee%'
    ) THEN
        ALTER TABLE notification_outbox
            DROP CONSTRAINT IF EXISTS notification_outbox_audience_check;
        ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_audience_check
            CHECK (audience IN ('coordinator', 'pair', 'mentor', 'mentee'));
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS notification_outbox_unsent
    ON notification_outbox (id) WHERE sent_at IS NULL;
"""

INSERT_NOTICE = """
INSERT INTO notification_outbox (relationship_id, audience, kind, dedupe_key, as_of_version)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (relationship_id, kind, dedupe_key) DO NOTHING
"""


def create_outbox(connection: Any) -> None:
    """Create or bring up to date the outbox table, one process at a time (the worker
    and the sender start together)."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext('notification_outbox'))")
        connection.execute(CREATE_OUTBOX)


def record_notice(connection: Any, notice: Notice, as_of_version: int | None = None) -> bool:
    """Record a notice with `connection` (in its transaction, if one is open); False
    if one with the same key was already recorded."""
    cursor = connection.execute(
        INSERT_NOTICE,
        (notice.relationship_id, notice.audience, notice.kind, notice.key, as_of_version),
    )
    return bool(cursor.rowcount == 1)


class Outbox:
    """Notices in the `notification_outbox` table of the service's database, written
    through `pool` (its owner opens and closes it)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def create_table(self) -> None:
        with self._pool.connection() as connection:
            create_outbox(connection)

    def record(self, notice: Notice) -> bool:
        """Record a notice; False if one with the same key was already recorded."""
        with self._pool.connection() as connection:
            return record_notice(connection, notice)
