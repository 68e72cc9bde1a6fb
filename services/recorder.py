"""The event store's recorder: eventsourcing's PostgreSQL application recorder with
its statements rendered to bytes once, and new events recorded in one round trip.

psycopg renders a `psycopg.sql.Composed` statement again on every execute, and the
recorder builds some of its statements anew on every call: about a tenth of the
server's CPU for a command (docs/performance.md). The statements and what they do
are eventsourcing's own; only their rendering moves to start-up.

eventsourcing records events in a pipelined transaction of its own making: BEGIN,
SET LOCAL lock_timeout, LOCK TABLE (so that notification ids commit in order),
NOTIFY, the INSERT, COMMIT, with five round trips to PostgreSQL and the table lock
held across them. Here those same statements run inside a database function, called
as one statement: one round trip, and the lock held only while PostgreSQL inserts
and commits.

Its tables, type and function are made by one process or thread at a time: several
making them at once (`mentoring up` starts its services together, and the relay makes
an application on each of its threads) fail in PostgreSQL with "tuple concurrently
updated" or "already exists".
"""

import contextlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor, InterfaceError, OperationalError
from psycopg.abc import AdaptContext
from psycopg.errors import DuplicateObject, UndefinedFunction
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Composed, Identifier, Literal


class Rendered(Composed):
    """A composed statement that psycopg renders once, not on every execute."""

    def __init__(self, statement: Composable) -> None:
        super().__init__([statement])
        self._rendered = statement.as_bytes(None)

    def as_bytes(self, context: AdaptContext | None = None) -> bytes:
        return self._rendered


class RenderedStatementsRecorder(PostgresApplicationRecorder):
    """PostgresApplicationRecorder, with every statement of the command path
    (reading an aggregate's events, and recording new ones) rendered once, and new
    events recorded by one call of `{table}_insert` (created with the table)."""

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
        self._use_insert_function()

    def _use_insert_function(self) -> None:
        """Create, in place of eventsourcing's own insert function (named for the id
        type alone, so two tables of one schema would share it, and without the
        table lock), a function of this table's that takes the lock first."""
        self.pg_function_name_insert_events = f"{self.events_table_name}_insert"
        self.check_identifier_length(self.pg_function_name_insert_events)
        schema = Identifier(self.datastore.schema)
        function = Identifier(self.pg_function_name_insert_events)
        table = Identifier(self.events_table_name)
        self.sql_create_pg_function_insert_events = SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
            "BEGIN "
            "SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY "
            "INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
            "RETURNING notification_id; "
            "END; $BODY$"
        ).format(
            schema=schema,
            function=function,
            event=Identifier(self.stored_event_type_name),
            lock_timeout=self.datastore.lock_timeout,
            table=table,
            channel=Identifier(self.channel_name),
        )
        index = self.create_insert_function_statement_index
        self.sql_create_statements[index] = self.sql_create_pg_function_insert_events
        self._insert_call = Rendered(
            SQL("SELECT * FROM {schema}.{function}(%s)").format(schema=schema, function=function)
        )

    def create_table(self) -> None:
        """eventsourcing's, in one transaction that first takes an advisory lock of
        the table's, so that whoever comes second finds everything made: its type
        (made in a savepoint, as there is no CREATE TYPE IF NOT EXISTS), then its
        table, indexes and function."""
        key = Literal(f"{self.datastore.schema}.{self.events_table_name}")
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("SELECT pg_advisory_xact_lock(hashtext({0}))").format(key))
            for statement in self.sql_create_statements:
                if "CREATE TYPE" in statement.as_string():
                    with contextlib.suppress(DuplicateObject), curs.connection.transaction():
                        curs.execute(statement, prepare=False)
            self._create_table(curs)
        self.datastore.register_type_adapters()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The events recorded in one statement, in one transaction of their own; their
        notification ids. On a database whose tables were made before the function
        existed, and not made again since, eventsourcing's own way."""
        if not stored_events:
            return None
        events = [
            self.construct_pg_stored_event(
                event.originator_id, event.originator_version, event.topic, event.state
            )
            for event in stored_events
        ]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            try:
                curs.execute(self._insert_call, (events,), prepare=True)
            except UndefinedFunction:
                pass
            else:
                return [row[self.pg_function_name_insert_events] for row in curs.fetchall()]
        recorded: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
        return recorded

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
