"""Running the reporting projections: live, catching up once, or rebuilding one.

Each projection has a worker that reads notifications after its tracked position
(filtered to the projection's topics, up to the store's head when it was read) and
applies them in one transaction per batch. Because the head is read first and the
store commits events in notification order, a batch that comes back short covers
everything up to the head, so every projection's position reaches the head even
when the last events are not of its topics: `wait_for_position` can then wait for
any command's position.
"""

import contextlib
import gc
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, Mapper, Notification
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from projections import queries
from projections.access_log import create_access_log
from projections.registry import PROJECTIONS, projection_class, tracking_table
from projections.schema import SCHEMA
from projections.status import (
    EventNotProjected,
    Failure,
    clear_stall,
    create_status_table,
    record_stall,
    stalls,
)
from projections.view import Positioned, PositionMoved, ReportingProjection

log = logging.getLogger("mentoring.projections")

# Called after each committed batch with (projection name, new position).
BatchListener = Callable[[str, int], None]


@dataclass(frozen=True)
class ReportingDatabase:
    """The PostgreSQL database the event store and the reporting schema are in:
    `url` for plain connections (DDL, LISTEN), and `env`, the eventsourcing settings
    of the same database, from which each projection's tracking recorder is made.

    The application the projections read through is given beside it: one whose
    recorder is PostgreSQL's and which creates no tables (services.bootstrap)."""

    url: str
    env: Mapping[str, str]


class ProjectionWorker:
    """Applies one projection's events in batches; one thread at a time.

    On construction the projection's tables are created if missing, and dropped and
    created again (so rebuilt from the first event) if their definition in the code
    has changed since they were created."""

    def __init__(
        self,
        app: Application[UUID],
        database: ReportingDatabase,
        name: str,
        batch_size: int = 1000,
    ) -> None:
        self.app = app
        self.name = name
        self.database_url = database.url
        self.batch_size = batch_size
        cls = projection_class(name)
        if replace_outdated(database.url, name):
            log.warning("projection %s changed definition: rebuilding it", name)
        self.factory = InfrastructureFactory.construct(env=view_env(database, name))
        assert isinstance(self.factory, PostgresFactory)
        self.projection: ReportingProjection = cls(
            view=self.factory.tracking_recorder(cls.view_class)
        )
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        self.recorder: PostgresApplicationRecorder = recorder
        self.topics = list(self.projection.topics)
        self.position = self.projection.view.position(app.name)
        self.events_applied = 0
        self.store_exists = False
        self.read_error: Exception | None = None

    def step(self) -> bool:
        """Apply the next batch. Returns False when already at the store's head (or
        the application has not created its event store yet).

        When the batch fails, its events are applied one per transaction up to the
        first that fails, which raises EventNotProjected naming its position (the
        projection's own error as the cause)."""
        if not self._ready():
            return False
        head = self.recorder.max_notification_id() or 0
        if head <= self.position:
            return False
        events, upto = self._read(self.position, head)
        try:
            self._apply(events, self.position, upto)
        except psycopg.OperationalError:
            raise  # the database, not an event
        except Exception:
            if self._apply_one_by_one(events):
                self._apply([], self.position, upto)
        return True

    def _apply_one_by_one(self, events: list[Positioned]) -> bool:
        """Returns False if another runner had moved the position."""
        for event in events:
            try:
                if not self._apply([event], self.position, event[1]):
                    return False
            except Exception as error:
                raise EventNotProjected(self.name, event[1]) from error
        return True

    def _ready(self) -> bool:
        if not self.store_exists:
            self.store_exists = self._store_exists()
        return self.store_exists

    def _read(self, after: int, head: int) -> tuple[list[Positioned], int]:
        """The decoded events after `after` (of the projection's topics, up to `head`)
        for one batch, and the position the batch ends at."""
        notifications = self.recorder.select_notifications(
            start=after,
            limit=self.batch_size,
            stop=head,
            topics=self.topics,
            inclusive_of_start=False,
        )
        upto = notifications[-1].id if len(notifications) == self.batch_size else head
        events = decode(self.app.mapper, notifications)
        return list(zip(events, (n.id for n in notifications), strict=True)), upto

    def _apply(self, events: list[Positioned], after: int, upto: int) -> bool:
        """Returns False if another runner had moved the position."""
        try:
            self.projection.process_events(events, after, upto)
        except PositionMoved as moved:
            log.info("%s: another runner moved the position to %s", self.name, moved.found)
            self.position = moved.found
            return False
        self.position = upto
        self.events_applied += len(events)
        return True

    def _store_exists(self) -> bool:
        table = f"{self.recorder.datastore.schema}.{self.recorder.events_table_name}"
        with self.recorder.datastore.get_connection() as connection:
            row = connection.execute("SELECT to_regclass(%s) AS found", (table,)).fetchone()
        return row is not None and row["found"] is not None

    def catch_up(self, on_batch: BatchListener | None = None) -> int:
        """Apply batches until the head; returns the position reached.

        A reader thread reads and decodes the next batch while this one is being
        written, so PostgreSQL's work and Python's overlap."""
        while self._ready():
            head = self.recorder.max_notification_id() or 0
            if head <= self.position:
                break
            batches: queue.Queue[tuple[list[Positioned], int, int] | None] = queue.Queue(2)
            halt = threading.Event()
            reader = threading.Thread(target=self._read_ahead, args=(head, batches, halt))
            reader.start()
            try:
                while (batch := batches.get()) is not None:
                    if not self._apply(*batch):
                        break
                    if on_batch is not None:
                        on_batch(self.name, self.position)
            finally:
                halt.set()
                while reader.is_alive():
                    with contextlib.suppress(queue.Empty):
                        batches.get_nowait()
                    reader.join(0.01)
            if self.read_error is not None:
                error, self.read_error = self.read_error, None
                raise error
        return self.position

    def _read_ahead(
        self,
        head: int,
        batches: "queue.Queue[tuple[list[Positioned], int, int] | None]",
        halt: threading.Event,
    ) -> None:
        after = self.position
        try:
            while after < head and not halt.is_set():
                events, upto = self._read(after, head)
                batches.put((events, after, upto))
                after = upto
        except Exception as error:
            self.read_error = error
        finally:
            batches.put(None)

    def reread_position(self) -> None:
        self.position = self.projection.view.position(self.app.name)

    def close(self) -> None:
        self.factory.close()


def decode(mapper: Mapper[UUID], notifications: Sequence[Notification]) -> list[Any]:
    """The events of a page of notifications, with one key look-up for the whole
    page when the mapper offers `to_domain_events` (the application's does:
    services.keys), else one by one."""
    many = getattr(mapper, "to_domain_events", None)
    if many is not None:
        return list(many(notifications))
    return [mapper.to_domain_event(notification) for notification in notifications]


DEFINITIONS = "projection_definitions"


def replace_outdated(database_url: str, name: str, *, force: bool = False) -> bool:
    """Drop the projection's tables, views and position if they were made from
    another definition (or `force`), and record the current definition. Returns
    True if it dropped them."""
    view_class = projection_class(name).view_class
    digest = view_class.definition_digest()
    definitions = Identifier(SCHEMA, DEFINITIONS)
    with psycopg.connect(database_url, autocommit=True) as connection, connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtext('reporting schema'))")
        connection.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(SCHEMA)))
        connection.execute(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (name text PRIMARY KEY, digest text NOT NULL, "
                "defined_at timestamptz NOT NULL DEFAULT now())"
            ).format(definitions)
        )
        row = connection.execute(
            SQL("SELECT digest FROM {0} WHERE name = %s").format(definitions), (name,)
        ).fetchone()
        if row is None:  # tables made before definitions were recorded are outdated
            found = connection.execute(
                "SELECT to_regclass(%s)", (f"{SCHEMA}.{tracking_table(name)}",)
            ).fetchone()
            outdated = force or (found is not None and found[0] is not None)
        else:
            outdated = force or row[0] != digest
        if outdated:
            # The tracking table first: a runner's batch locks its tracking row before
            # the tables it writes, so taking the tables first could deadlock with it.
            tracking = f"{SCHEMA}.{tracking_table(name)}"
            found = connection.execute("SELECT to_regclass(%s)", (tracking,)).fetchone()
            if found is not None and found[0] is not None:
                connection.execute(
                    SQL("LOCK TABLE {0} IN ACCESS EXCLUSIVE MODE").format(
                        Identifier(SCHEMA, tracking_table(name))
                    )
                )
            for statement in view_class.drop_statements(tracking_table(name)):
                connection.execute(statement)
        connection.execute(
            SQL(
                "INSERT INTO {0} AS d (name, digest) VALUES (%s, %s) ON CONFLICT (name) "
                "DO UPDATE SET digest = excluded.digest, defined_at = now() WHERE %s"
            ).format(definitions),
            (name, digest, outdated),
        )
    return outdated


def view_env(database: ReportingDatabase, name: str) -> Environment:
    """A projection's env, named after it (as eventsourcing's ProjectionRunner does):
    its tracking table is `reporting.<name>_tracking`."""
    prefix = name.upper()
    return Environment(
        name,
        dict(database.env)
        | {
            f"{prefix}_POSTGRES_SCHEMA": SCHEMA,
            f"{prefix}_POSTGRES_POOL_SIZE": "1",
            f"{prefix}_POSTGRES_MAX_OVERFLOW": "1",
            # A rebuild batch folds in Python between statements.
            f"{prefix}_POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "300",
        },
    )


def _names(names: Sequence[str] | None) -> list[str]:
    chosen = list(PROJECTIONS) if names is None else list(names)
    for name in chosen:
        projection_class(name)
    return chosen


def create_reporting_schema(app: Application[UUID], database: ReportingDatabase) -> None:
    """Create every projection's tables and views, and the access log (idempotent).
    Call once at start-up, before the API records accesses."""
    for name in PROJECTIONS:
        ProjectionWorker(app, database, name).close()
    with psycopg.connect(database.url, autocommit=True) as connection:
        create_access_log(connection)
        create_status_table(connection)


def catch_up(
    app: Application[UUID],
    database: ReportingDatabase,
    *,
    names: Sequence[str] | None = None,
    batch_size: int = 5000,
) -> dict[str, int]:
    """Bring projections (default: all) up to the store's head once, one after the
    other. Returns each one's position."""
    positions: dict[str, int] = {}
    for name in _names(names):
        worker = ProjectionWorker(app, database, name, batch_size)
        try:
            positions[name] = worker.catch_up()
        finally:
            worker.close()
    return positions


@dataclass(frozen=True)
class RebuildResult:
    name: str
    events: int
    position: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(
    app: Application[UUID],
    database: ReportingDatabase,
    name: str,
    *,
    batch_size: int = 20000,
) -> RebuildResult:
    """Drop one projection's tables, views and position, rebuild them from the
    events up to the head, then build its indexes and VACUUM ANALYZE it.

    A live runner may keep running: it waits on the rows it needs and then carries
    on from wherever the rebuild got to. While the rebuild runs, the projection's
    tables are incomplete and readers waiting for a position wait.
    Raises KeyError for an unknown name."""
    cls = projection_class(name)
    started = time.perf_counter()
    indexes = cls.view_class.secondary_indexes()
    replace_outdated(database.url, name, force=True)
    worker = ProjectionWorker(app, database, name, batch_size)
    try:
        _drop_indexes(database.url, [index for index, _ in indexes])
        position = worker.catch_up()
    finally:
        worker.close()
    with psycopg.connect(database.url, autocommit=True) as connection:
        for _, create_index in indexes:
            connection.execute(create_index)
        # Rows folded over several batches were rewritten: reclaim the dead ones.
        for table in cls.view_class.tables:
            connection.execute(SQL("VACUUM ANALYZE {0}").format(Identifier(SCHEMA, table)))
    seconds = time.perf_counter() - started
    log.info("rebuilt %s: %d events in %.1f s", name, worker.events_applied, seconds)
    return RebuildResult(name, worker.events_applied, position, seconds)


# Called as a rebuild of all projections goes: (position reached, head).
ProgressListener = Callable[[int, int], None]


@dataclass(frozen=True)
class AllRebuilt:
    """A rebuild of several projections in one pass: `events` read (and decoded
    once), each projection's events applied, and the whole time taken."""

    events: int
    position: int
    seconds: float
    applied: dict[str, int]

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


# Pages of all events, large so that rows folded over many events (a pair's) are
# read and rewritten few times; about 350 MB at most held at once.
ALL_BATCH_SIZE = 50_000


# While a rebuild runs: Python's cyclic collector runs once per this many new
# containers rather than 700. A page of events makes millions of dicts, none of them
# in cycles, and each collection walks them (docs/performance.md).
REBUILD_COLLECTION_THRESHOLD = 50_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often until the block ends."""
    threshold = gc.get_threshold()
    gc.set_threshold(REBUILD_COLLECTION_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def rebuild_all(
    app: Application[UUID],
    database: ReportingDatabase,
    *,
    names: Sequence[str] | None = None,
    batch_size: int = ALL_BATCH_SIZE,
    on_progress: ProgressListener | None = None,
) -> AllRebuilt:
    """`rebuild` for projections (default: all) together: their tables are dropped,
    the store is read and decoded once up to the head, and each batch is applied to
    every projection (the events of its topics, each in its own transaction), then
    every projection's indexes are built and its tables vacuumed.

    A live runner may keep running beside it, as beside `rebuild`: a projection it
    moved on is fed only the events after its new position.
    Raises KeyError for an unknown name."""
    chosen = _names(names)
    started = time.perf_counter()
    workers: list[ProjectionWorker] = []
    try:
        for name in chosen:
            replace_outdated(database.url, name, force=True)
            workers.append(ProjectionWorker(app, database, name, batch_size))
            indexes = projection_class(name).view_class.secondary_indexes()
            _drop_indexes(database.url, [index for index, _ in indexes])
        with fewer_collections():
            events, position = _feed_all(app, workers, batch_size, on_progress)
    finally:
        for worker in workers:
            worker.close()
    with psycopg.connect(database.url, autocommit=True) as connection:
        for name in chosen:
            view_class = projection_class(name).view_class
            for _, create_index in view_class.secondary_indexes():
                connection.execute(create_index)
            for table in view_class.tables:
                connection.execute(SQL("VACUUM ANALYZE {0}").format(Identifier(SCHEMA, table)))
    seconds = time.perf_counter() - started
    applied = {worker.name: worker.events_applied for worker in workers}
    log.info("rebuilt %s: %d events in %.1f s", ", ".join(chosen), events, seconds)
    return AllRebuilt(events, position, seconds, applied)


# A page read: its events, their topics, and the positions it runs after and up to.
Page = tuple[list[Positioned], list[str], int, int]


def _feed_all(
    app: Application[UUID],
    workers: list[ProjectionWorker],
    batch_size: int,
    on_progress: ProgressListener | None,
) -> tuple[int, int]:
    """Read the store once from the first event to the head, a thread reading and
    decoding the next page while this one applies the last to every projection.
    Returns (events read, position reached)."""
    recorder = app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    if not workers or not workers[0]._ready():
        return 0, 0  # nothing chosen, or no event recorded yet
    head = recorder.max_notification_id() or 0
    wanted = [frozenset(worker.topics) or None for worker in workers]
    pages: queue.Queue[Page | None] = queue.Queue(2)
    halt = threading.Event()
    failed: list[Exception] = []

    def read() -> None:
        after = 0
        try:
            while after < head and not halt.is_set():
                notifications = recorder.select_notifications(
                    start=after, limit=batch_size, stop=head, inclusive_of_start=False
                )
                upto = notifications[-1].id if len(notifications) == batch_size else head
                events = decode(app.mapper, notifications)
                positioned = list(zip(events, (n.id for n in notifications), strict=True))
                pages.put((positioned, [n.topic for n in notifications], after, upto))
                after = upto
        except Exception as error:
            failed.append(error)
        finally:
            pages.put(None)

    reader = threading.Thread(target=read, name="rebuild-reader")
    reader.start()
    events, position = 0, 0
    try:
        while (page := pages.get()) is not None:
            positioned, topics, after, upto = page
            for worker, topic_set in zip(workers, wanted, strict=True):
                while worker.position < upto:  # else a live runner got there first
                    mine = _events_for(positioned, topics, topic_set, worker.position, after)
                    if worker._apply(mine, worker.position, upto):
                        break
            events += len(positioned)
            position = upto
            if on_progress is not None:
                on_progress(position, head)
    finally:
        halt.set()
        while reader.is_alive():
            with contextlib.suppress(queue.Empty):
                pages.get_nowait()
            reader.join(0.01)
    if failed:
        raise failed[0]
    return events, position


def _events_for(
    positioned: list[Positioned],
    topics: list[str],
    topic_set: frozenset[str] | None,
    position: int,
    after: int,
) -> list[Positioned]:
    """The events of a page (read after `after`) of a projection's topics (all of
    them for None) after its `position`, which is `after` unless a live runner has
    moved it into the page."""
    if topic_set is None:
        chosen = list(positioned)
    else:
        chosen = [
            event for event, topic in zip(positioned, topics, strict=True) if topic in topic_set
        ]
    if position > after:
        chosen = [event for event in chosen if event[1] > position]
    return chosen


def _drop_indexes(database_url: str, names: list[str]) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        for name in names:
            connection.execute(SQL("DROP INDEX IF EXISTS {0}").format(Identifier(SCHEMA, name)))


def verify_audit(database_url: str) -> dict[str, Any]:
    """Check the audit log's hash chain: `{ok, rows, first_bad_row}`."""
    with psycopg.connect(database_url) as connection:
        return queries.verify_audit(connection)


def run_projections(
    app: Application[UUID],
    database: ReportingDatabase,
    stop: threading.Event,
    *,
    names: Sequence[str] | None = None,
    batch_size: int = 1000,
    poll_interval: float = 1.0,
    on_batch: BatchListener | None = None,
    longest_pause: float = 30.0,
) -> None:
    """Keep projections (default: all) up to date until `stop` is set.

    One thread per projection, woken by PostgreSQL NOTIFY when events are recorded
    (and every `poll_interval` seconds regardless); other projections carry on
    while one fails. A projection that fails is stalled: it is logged once per
    failure (its position, the error's type and where it was raised; never the
    message, which may quote personal data), recorded in
    `reporting.projection_status` on every attempt, and retried after a pause that
    doubles up to `longest_pause` seconds. Once it applies events again the stall is
    cleared (also one left by an earlier run). Returns after `stop` is set and every
    thread has finished its current batch.
    """
    workers: list[ProjectionWorker] = []
    try:
        workers = [ProjectionWorker(app, database, n, batch_size) for n in _names(names)]
        with psycopg.connect(database.url, autocommit=True) as connection:
            left_stalled = stalls(connection)  # by an earlier run
        bells = [threading.Event() for _ in workers]
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        threads = [
            threading.Thread(
                target=_keep_up,
                args=(
                    worker,
                    bell,
                    stop,
                    poll_interval,
                    on_batch,
                    longest_pause,
                    worker.name in left_stalled,
                ),
                name=f"projection-{worker.name}",
            )
            for worker, bell in zip(workers, bells, strict=True)
        ]
        threads.append(
            threading.Thread(
                target=_listen,
                args=(database.url, recorder.channel_name, bells, stop),
                name="projection-listener",
            )
        )
        for thread in threads:
            thread.start()
        stop.wait()
        for bell in bells:
            bell.set()
        for thread in threads:
            thread.join()
    finally:
        for worker in workers:
            worker.close()


def _keep_up(
    worker: ProjectionWorker,
    bell: threading.Event,
    stop: threading.Event,
    poll_interval: float,
    on_batch: BatchListener | None,
    longest_pause: float,
    maybe_recorded: bool,
) -> None:
    pause = 0.1
    stalled: Failure | None = None
    while not stop.is_set():
        bell.clear()
        try:
            while not stop.is_set() and worker.step():
                if maybe_recorded:
                    maybe_recorded = _recovered(worker, stalled)
                    stalled = None
                if on_batch is not None:
                    on_batch(worker.name, worker.position)
            if maybe_recorded:
                maybe_recorded = _recovered(worker, stalled)
                stalled = None
            pause = 0.1
        except Exception as error:
            failure = Failure.of(error, worker.position)
            if failure != stalled:
                log.error(
                    "projection %s stalled at position %d: %s raised at %s; retrying",
                    worker.name,
                    failure.position,
                    failure.error_type,
                    failure.raised_at,
                )
            stalled, maybe_recorded = failure, True
            _record(worker, failure)
            stop.wait(pause)
            pause = min(pause * 2, longest_pause)
            try:
                worker.reread_position()
            except Exception as unread:
                log.error("projection %s cannot read its position: %r", worker.name, unread)
            continue
        bell.wait(poll_interval)


def _record(worker: ProjectionWorker, failure: Failure) -> None:
    try:
        record_stall(worker.database_url, worker.name, failure)
    except psycopg.Error as error:
        log.error("projection %s: cannot record its stall: %s", worker.name, error)


def _recovered(worker: ProjectionWorker, stalled: Failure | None) -> bool:
    """Clear the projection's recorded stall; False once that is done."""
    if clear_stall(worker.database_url, worker.name) or stalled is not None:
        log.warning("projection %s recovered: at position %d", worker.name, worker.position)
    return False


def _listen(
    database_url: str, channel: str, bells: list[threading.Event], stop: threading.Event
) -> None:
    """Ring every bell on each NOTIFY of the events channel; reconnect on failure."""
    while not stop.is_set():
        try:
            with psycopg.connect(database_url, autocommit=True) as connection:
                connection.execute(SQL("LISTEN {0}").format(Identifier(channel)))
                while not stop.is_set():
                    for _ in connection.notifies(timeout=0.2, stop_after=1):
                        for bell in bells:
                            bell.set()
        except psycopg.Error:
            log.exception("listening for new events failed; reconnecting")
            stop.wait(1.0)
