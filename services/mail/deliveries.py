"""The delivery log: one row per notice and recipient in `notification_deliveries`,
holding who (role and id: never an address), the status (`pending`, `sent`,
`failed`, or `skipped` when the recipient turned reminders off or the notice no
longer applies), attempts, the kind of the last error, when to try next and when
it was sent. The sender claims rows with FOR UPDATE SKIP LOCKED; the API lists them.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

STATUSES = ("pending", "sent", "failed", "skipped")

CREATE_DELIVERIES = """
CREATE TABLE IF NOT EXISTS notification_deliveries (
    id bigserial PRIMARY KEY,
    notice_id bigint NOT NULL REFERENCES notification_outbox (id),
    scheme_id uuid NOT NULL,
    relationship_id uuid NOT NULL,
    kind text NOT NULL,
    recipient_role text NOT NULL CHECK (recipient_role IN ('mentor', 'mentee', 'coordinator')),
    recipient_id uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    next_attempt_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    sent_at timestamptz,
    UNIQUE (notice_id, recipient_role, recipient_id)
);
CREATE INDEX IF NOT EXISTS notification_deliveries_due
    ON notification_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS notification_deliveries_scheme
    ON notification_deliveries (scheme_id, relationship_id);
"""

INSERT_DELIVERY = """
INSERT INTO notification_deliveries (notice_id, scheme_id, relationship_id, kind,
    recipient_role, recipient_id, status, next_attempt_at, recorded_at)
VALUES (%s, %s, %s, %s, %s, %s, 'pending', %s, %s)
ON CONFLICT (notice_id, recipient_role, recipient_id) DO NOTHING
"""

# The oldest due delivery no other sender holds, with its notice.
CLAIM_DUE = """
SELECT d.id, d.notice_id, d.scheme_id, d.relationship_id, d.kind, d.recipient_role,
       d.recipient_id, d.attempts, o.as_of_version
FROM notification_deliveries d JOIN notification_outbox o ON o.id = d.notice_id
WHERE d.status = 'pending' AND d.next_attempt_at <= %s
ORDER BY d.next_attempt_at, d.id
LIMIT 1
FOR UPDATE OF d SKIP LOCKED
"""

RECORD_ATTEMPT = """
UPDATE notification_deliveries
SET status = %s, attempts = attempts + 1, last_error = %s, next_attempt_at = %s,
    sent_at = CASE WHEN %s = 'sent' THEN %s ELSE sent_at END
WHERE id = %s
"""

LIST_COLUMNS = (
    "id, notice_id, relationship_id, kind, recipient_role, status, attempts, last_error,"
    " recorded_at, sent_at, next_attempt_at"
)


def create_deliveries(connection: Any) -> None:
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext('notification_deliveries'))")
        connection.execute(CREATE_DELIVERIES)


def delivery_log(
    pool: ConnectionPool,
    scheme_ids: Sequence[UUID] | None,
    relationship_id: UUID | None = None,
    status: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Deliveries, newest first: of `scheme_ids` (None: every scheme), optionally of
    one relationship or with one status."""
    where: list[str] = ["TRUE"]
    params: list[object] = []
    if scheme_ids is not None:
        where.append("scheme_id = ANY(%s)")
        params.append(list(scheme_ids))
    if relationship_id is not None:
        where.append("relationship_id = %s")
        params.append(relationship_id)
    if status is not None:
        where.append("status = %s")
        params.append(status)
    query = (
        f"SELECT {LIST_COLUMNS} FROM notification_deliveries WHERE {' AND '.join(where)}"
        " ORDER BY recorded_at DESC, id DESC LIMIT %s"
    )
    with pool.connection() as connection, connection.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(query, (*params, limit)).fetchall()
    return [
        row | {key: _instant(row[key]) for key in ("recorded_at", "sent_at", "next_attempt_at")}
        for row in rows
    ]


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def due_at(attempts: int, base_seconds: float, longest_seconds: float) -> float:
    """Seconds to wait after the `attempts`-th failed try: doubling from `base_seconds`,
    at most `longest_seconds`."""
    return float(min(base_seconds * 2 ** max(attempts - 1, 0), longest_seconds))
