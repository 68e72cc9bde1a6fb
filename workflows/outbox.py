"""The notification outbox: what the coordinator or the pair should be told, kept in
PostgreSQL until a sender (a later issue) delivers it. Ids and kinds only; the
sender looks up names and addresses when it sends."""

from psycopg_pool import ConnectionPool

from workflows.model import Notice

CREATE_OUTBOX = """
CREATE TABLE IF NOT EXISTS notification_outbox (
    id bigserial PRIMARY KEY,
    relationship_id uuid NOT NULL,
    audience text NOT NULL CHECK (audience IN ('coordinator', 'pair')),
    kind text NOT NULL,
    dedupe_key text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    UNIQUE (relationship_id, kind, dedupe_key)
);
CREATE INDEX IF NOT EXISTS notification_outbox_unsent
    ON notification_outbox (id) WHERE sent_at IS NULL;
"""

INSERT_NOTICE = """
INSERT INTO notification_outbox (relationship_id, audience, kind, dedupe_key)
VALUES (%s, %s, %s, %s)
ON CONFLICT (relationship_id, kind, dedupe_key) DO NOTHING
"""


class Outbox:
    """Notices in the `notification_outbox` table of the service's database, written
    through `pool` (its owner opens and closes it)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def create_table(self) -> None:
        with self._pool.connection() as connection:
            connection.execute(CREATE_OUTBOX)

    def record(self, notice: Notice) -> bool:
        """Record a notice; False if one with the same key was already recorded."""
        with self._pool.connection() as connection:
            cursor = connection.execute(
                INSERT_NOTICE,
                (notice.relationship_id, notice.audience, notice.kind, notice.key),
            )
            return cursor.rowcount == 1
