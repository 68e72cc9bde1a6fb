"""The base of every reporting projection: a Projection whose view is a PostgreSQL
tracking recorder, writing its tables in schema `reporting`.

Exactly once: a batch of events is applied in one transaction that first locks the
projection's tracking row and checks it still holds the position the batch starts
after, then writes the rows, then moves the tracking row to the batch's end. A crash
rolls all of it back; two runners of the same projection cannot both apply a batch.
"""

import hashlib
import json
import re
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composable, Composed, Identifier

from projections.schema import SCHEMA, apply_reader_grants

Row = dict[str, Any]
# An event read from the store, with its notification id (its position).
Positioned = tuple[Any, int]


class PositionMoved(Exception):
    """Another runner applied events to this projection since we read its position."""

    def __init__(self, expected: int, found: int) -> None:
        self.found = found
        super().__init__(f"expected position {expected}, found {found}")


def table(name: str) -> Composable:
    """`reporting.<name>` as a quoted identifier."""
    return Identifier(SCHEMA, name)


class ReportingView(PostgresTrackingRecorder):
    """A tracking recorder that owns some tables and SQL views in `reporting`.

    Subclasses list `tables` (dropped on rebuild, in order) and `ddl` (statements
    that create them, idempotently). SQL views over the tables go in `sql_views`
    (name, SELECT): they are created after the tables and dropped before them.
    """

    tables: ClassVar[tuple[str, ...]] = ()
    ddl: ClassVar[tuple[str, ...]] = ()
    sql_views: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str = "notification_tracking",
        **kwargs: Any,
    ) -> None:
        super().__init__(datastore, tracking_table_name=tracking_table_name, **kwargs)
        schema = SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(datastore.schema))
        self.sql_create_statements.insert(0, schema)
        self.sql_create_statements.extend(SQL(statement).format() for statement in self.ddl)
        self.sql_create_statements.extend(
            SQL("CREATE OR REPLACE VIEW {0} AS {1}").format(table(name), SQL(select))
            for name, select in self.sql_views
        )
        self.tracking_table = Identifier(datastore.schema, tracking_table_name)

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Runners starting together would race on the catalog ("IF NOT EXISTS" is
        # not atomic): one creates at a time.
        curs.execute("SELECT pg_advisory_xact_lock(hashtext('reporting schema'))")
        # The library checked for the tracking table before taking the lock.
        curs.execute("SELECT to_regclass(%s) AS found", (self.tracking_table.as_string(),))
        found = curs.fetchone()
        if found is not None and found["found"] is not None:
            self.tracking_table_exists = True
            self.tracking_migration_previous = self._max_tracking_id(
                self.table_migration_identifier, curs
            )
        super()._create_table(curs)
        apply_reader_grants(curs)

    @classmethod
    def definition_digest(cls) -> str:
        """A digest of the tables' and views' definitions: when it changes (a new
        column, a new metric), the projection is dropped and rebuilt."""
        text = "\n".join((*cls.tables, *cls.ddl, *(f"{n} {q}" for n, q in cls.sql_views)))
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def secondary_indexes(cls) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the indexes in `ddl`, which a rebuild drops
        while it loads and builds again at the end (faster than keeping them up)."""
        found = (re.match(r"CREATE (?:UNIQUE )?INDEX IF NOT EXISTS (\w+) ", s) for s in cls.ddl)
        return [(match[1], match.string) for match in found if match]

    @classmethod
    def drop_statements(cls, tracking_table_name: str) -> list[Composed]:
        """Statements that remove everything the view owns, tracking included."""
        statements: list[Composed] = [
            SQL("DROP VIEW IF EXISTS {0} CASCADE").format(table(name))
            for name, _ in reversed(cls.sql_views)
        ]
        statements += [
            SQL("DROP TABLE IF EXISTS {0} CASCADE").format(table(name))
            for name in (*cls.tables, tracking_table_name)
        ]
        return statements

    @contextmanager
    def batch(self, application_name: str, after: int | None, upto: int) -> Iterator[Cursor[Any]]:
        """A transaction applying the events after position `after` up to `upto`;
        the tracking row is locked first and moved to `upto` last.

        Raises PositionMoved if the projection is no longer at `after` (another runner
        moved it). `after=None` skips that check (one event at a time, as the
        library's ProjectionRunner does; the tracking insert still refuses to go back).
        """
        with self.datastore.transaction(commit=True) as curs:
            found = self._lock_position(curs, application_name)
            if after is not None and found != after:
                raise PositionMoved(after, found)
            yield curs
            self._insert_tracking(curs, Tracking(application_name, upto))

    def _lock_position(self, curs: Cursor[DictRow], application_name: str) -> int:
        # Derived rows: a server crash may lose the latest batches, but whole, with
        # their tracking rows, so the projection resumes exactly where it stands.
        curs.execute("SET LOCAL synchronous_commit = off")
        # An upsert that changes nothing returns the position and locks the row.
        curs.execute(
            SQL(
                "INSERT INTO {0} AS t (application_name, notification_id) VALUES (%s, 0) "
                "ON CONFLICT (application_name) DO UPDATE SET notification_id = t.notification_id "
                "RETURNING notification_id"
            ).format(self.tracking_table),
            (application_name,),
        )
        row = curs.fetchone()
        assert row is not None
        return int(row["notification_id"])

    def position(self, application_name: str) -> int:
        """The last notification id applied (0 before the first)."""
        return self.max_tracking_id(application_name) or 0


class ReportingProjection(Projection[ReportingView]):
    """A projection whose events are applied in batches by `project`.

    `process_event` (the library's interface, one event per transaction) and
    `process_events` (a batch per transaction, used by `projections.runner`) both
    end in `project`, so a table is the same whichever way it was built.
    """

    view_class: ClassVar[type[ReportingView]]
    application_name: ClassVar[str] = "mentoring"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        position = tracking.notification_id
        if self.view.position(tracking.application_name) >= position:
            return
        with self.view.batch(tracking.application_name, None, position) as curs:
            self.project(curs, [(domain_event, position)])

    def process_events(self, events: Sequence[Positioned], after: int, upto: int) -> None:
        """Apply `events` (positions after `after`, up to `upto`) in one transaction and
        move the tracking position to `upto`. Raises PositionMoved."""
        with self.view.batch(self.application_name, after, upto) as curs:
            if events:
                self.project(curs, events)

    @abstractmethod
    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        """Write the row changes for `events` (in notification order) with `curs`."""


# Row helpers used inside a batch transaction -------------------------------------


def load_rows(
    curs: Cursor[Any], name: str, key: str, keys: Collection[Any], where: str = ""
) -> dict[Any, Row]:
    """Rows of `reporting.<name>` whose `key` is in `keys`, by key."""
    if not keys:
        return {}
    query = SQL("SELECT * FROM {0} WHERE {1} = ANY(%s)").format(table(name), Identifier(key))
    if where:
        query += SQL(" AND ") + SQL(where)
    curs.execute(query, (list(keys),))
    return {row[key]: dict(row) for row in curs.fetchall()}


def delete_rows(
    curs: Cursor[Any], name: str, key: str, keys: Collection[Any], where: str = ""
) -> None:
    if not keys:
        return
    query = SQL("DELETE FROM {0} WHERE {1} = ANY(%s)").format(table(name), Identifier(key))
    if where:
        query += SQL(" AND ") + SQL(where)
    curs.execute(query, (list(keys),))


def copy_rows(
    curs: Cursor[Any],
    name: str,
    columns: Sequence[str],
    rows: Iterable[Row],
    json_columns: Collection[str] = (),
) -> None:
    """Insert rows with COPY, the fastest way PostgreSQL takes rows. Values of
    `json_columns` are written as JSON text."""
    statement = SQL("COPY {0} ({1}) FROM STDIN").format(
        table(name), SQL(", ").join(Identifier(column) for column in columns)
    )
    values_of = _values_getter(columns)
    as_json = [index for index, column in enumerate(columns) if column in json_columns]
    with curs.copy(statement) as copy:
        if not as_json:
            for row in rows:
                copy.write_row(values_of(row))
            return
        for row in rows:
            values = list(values_of(row))
            for index in as_json:
                values[index] = _json_text(values[index])
            copy.write_row(values)


def json_encoding(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """`encoder.encode`, faster: it builds json's C encoder afresh for every value,
    which took longer than encoding a row's small values; this builds it once, with
    the same settings and without the check for circular references (values read
    from events and rows never have any). Only without json's C part (or with an
    indent) is it `encoder.encode` itself."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None or encoder.indent is not None:
        return encoder.encode
    quote = (
        json.encoder.encode_basestring_ascii
        if encoder.ensure_ascii
        else json.encoder.encode_basestring
    )
    chunks = make(
        None,
        encoder.default,
        quote,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    return lambda value: "".join(chunks(value, 0))


# `json.dumps` (its default settings).
_json_text = json_encoding(json.JSONEncoder())


def _values_getter(columns: Sequence[str]) -> Callable[[Row], Sequence[Any]]:
    """A row's values of `columns`, in order: `itemgetter` picks them in C, which
    matters for rows of forty columns written by the thousand."""
    if len(columns) > 1:
        return itemgetter(*columns)
    return lambda row: [row[column] for column in columns]


def replace_rows(
    curs: Cursor[Any],
    name: str,
    key: str,
    columns: Sequence[str],
    rows: dict[Any, Row],
    json_columns: Collection[str] = (),
) -> None:
    """Make `reporting.<name>` hold exactly `rows` for their keys."""
    delete_rows(curs, name, key, rows.keys())
    copy_rows(curs, name, columns, rows.values(), json_columns)


def create_table_sql(name: str, columns: dict[str, str], extra: str = "") -> str:
    body = ", ".join(f"{column} {kind}" for column, kind in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{name} ({body}{extra})"
