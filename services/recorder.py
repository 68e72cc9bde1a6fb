"""The event store's recorder: eventsourcing's PostgreSQL application recorder with
its statements rendered to bytes once.

psycopg renders a `psycopg.sql.Composed` statement again on every execute, and the
recorder builds some of its statements anew on every call: about a tenth of the
server's CPU for a command (docs/performance.md). The statements and what they do
are eventsourcing's own; only their rendering moves to start-up.
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor, InterfaceError, OperationalError
from psycopg.abc import AdaptContext
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Composed, Identifier


class Rendered(Composed):
    """A composed statement that psycopg renders once, not on every execute."""

    def __init__(self, statement: Composable) -> None:
        super().__init__([statement])
        self._rendered = statement.as_bytes(None)

    def as_bytes(self, context: AdaptContext | None = None) -> bytes:
        return self._rendered


class RenderedStatementsRecorder(PostgresApplicationRecorder):
    """PostgresApplicationRecorder, with every statement of the command path
    (reading an aggregate's events, and recording new ones) rendered once."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.insert_events_statement = Rendered(self.insert_events_statement)
        self.lock_table_statements = [
            Rendered(statement) if isinstance(statement, Composable) else statement
            for statement in self.lock_table_statements
        ]
        self._notify_statement = Rendered(SQL("NOTIFY {0}").format(Identifier(self.channel_name)))
        self._select_events_statements: dict[tuple[bool, bool, bool, bool], Rendered] = {}

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self._notify_statement)

    def _select_events_statement(self, gt: bool, lte: bool, desc: bool, limit: bool) -> Rendered:
        """The statement PostgresAggregateRecorder.select_events composes for these
        arguments, composed and rendered once."""
        key = (gt, lte, desc, limit)
        if key not in self._select_events_statements:
            statement = self.select_events_statement
            if gt:
                statement += SQL(" AND originator_version > %s")
            if lte:
                statement += SQL(" AND originator_version <= %s")
            statement += SQL(" ORDER BY originator_version")
            statement += SQL(" DESC") if desc else SQL(" ASC")
            if limit:
                statement += SQL(" LIMIT %s")
            self._select_events_statements[key] = Rendered(statement)
        return self._select_events_statements[key]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        params: list[Any] = [originator_id]
        params += [value for value in (gt, lte, limit) if value is not None]
        statement = self._select_events_statement(
            gt is not None, lte is not None, desc, limit is not None
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]
