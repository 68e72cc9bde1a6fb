"""The composition root: the one module that builds the application, its pools, the
outbox, the token and idempotency stores, the mail sender and the Temporal clients
from Settings, and hands them to the processes (`up`, `api`, `worker`, `relay`,
`project`, `send`, `rebuild`). Below it, `workflows/` and `projections/` take what
they are given and construct none of these (README, "Layout").

Every function here needs MENTORING_DATABASE_URL, except `with_database`, which
fills it in with the embedded PostgreSQL; they raise ConfigError without it.
"""

import asyncio
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial

import psycopg
from psycopg_pool import ConnectionPool
from temporalio.client import Client

from projections import runner
from projections.access_log import create_access_log
from projections.runner import (
    AllRebuilt,
    BatchListener,
    ProgressListener,
    RebuildResult,
    ReportingDatabase,
)
from services.application import Mentoring
from services.auth import TokenStore
from services.config import DEFAULT_TEMPORAL_ADDRESS, Settings, database_url_of
from services.embedded import cipher_key_from, start_embedded_postgres
from services.erasure import erase_expired
from services.idempotency import IdempotencyStore
from services.mail.deliveries import create_deliveries
from services.mail.notices import EventNotices
from services.mail.sender import Sender
from services.mail.transport import mail_directory, transport_from
from services.persistence import postgres_env
from services.runtime import Runtime
from services.staff import StaffStore
from services.supervisor import Background
from services.throttle import FailedAuthentications
from services.web.links import SignInLinks
from services.web.oidc_pending import PendingSignIns
from services.web.people import PeopleByEmail
from services.web.session_store import SessionStore
from services.web.throttling import SignInRequests
from workflows.activities import RelationshipActivities
from workflows.background import WorkerAndRelay
from workflows.connect import connect_to_temporal
from workflows.devserver import start_dev_server
from workflows.outbox import Outbox, create_outbox
from workflows.relay import WINDOW, run_relay
from workflows.retention import RetentionActivities, start_retention
from workflows.survey_round_activities import SurveyRoundActivities
from workflows.worker import MAX_CONCURRENT_ACTIVITIES, run_worker


def with_database(settings: Settings) -> Settings:
    """The settings, with the embedded database (and its cipher key) filled in when
    no MENTORING_DATABASE_URL is given."""
    if settings.database_url is not None:
        return settings
    return replace(
        settings,
        database_url=start_embedded_postgres(settings.var_dir),
        cipher_key=settings.cipher_key or cipher_key_from(settings.var_dir),
    )


def store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing settings of the event store (services.persistence)."""
    return postgres_env(database_url_of(settings), settings.cipher_key)


# The API ---------------------------------------------------------------------------


def build_runtime(settings: Settings) -> Runtime:
    """What the API and the CLI's token commands use. Connects to PostgreSQL and
    creates what is missing (tables are idempotent); on a database new to the mail
    sender, starts its event tracking after the events recorded so far.

    Raises psycopg.OperationalError at once if the database cannot be reached."""
    database_url = database_url_of(settings)
    psycopg.connect(database_url, connect_timeout=5).close()
    mentoring = Mentoring(env=store_env(settings))
    pool = ConnectionPool(
        database_url, min_size=1, max_size=4, open=True, kwargs={"autocommit": True}
    )
    with pool.connection() as connection:
        create_access_log(connection)
        create_outbox(connection)
        create_deliveries(connection)
    notices = EventNotices(mentoring, pool)
    notices.create_table()
    notices.start_at_head()
    return _runtime(settings, mentoring, pool)


# The event store's connections of each of several API processes (services.serving):
# a few each, so that four of them stay well within PostgreSQL's 100.
WORKER_STORE_POOL = {"POSTGRES_POOL_SIZE": "3", "POSTGRES_MAX_OVERFLOW": "7"}


def build_worker_runtime(settings: Settings) -> Runtime:
    """The runtime of one of several API processes (services.serving), on a database
    whose tables `build_runtime` has made already: it creates none of the event
    store's (processes that start together would race on eventsourcing's CREATE OR
    REPLACE FUNCTION), and opens fewer connections."""
    mentoring = Mentoring(
        env=store_env(settings) | WORKER_STORE_POOL | {"MENTORING_CREATE_TABLE": "false"}
    )
    pool = ConnectionPool(
        database_url_of(settings), min_size=1, max_size=4, open=True, kwargs={"autocommit": True}
    )
    return _runtime(settings, mentoring, pool)


def _runtime(settings: Settings, mentoring: Mentoring, pool: ConnectionPool) -> Runtime:
    return Runtime(
        settings=settings,
        database_url=database_url_of(settings),
        mentoring=mentoring,
        pool=pool,
        tokens=TokenStore(pool, settings.admin_token),
        idempotency=IdempotencyStore(pool, mentoring.mapper.cipher),
        failed_authentications=FailedAuthentications(settings.auth_failures_per_minute, pool),
        staff=StaffStore(pool),
        sessions=SessionStore(pool, settings.session_idle, settings.session_lifetime),
        sign_in_links=SignInLinks(pool),
        people_by_email=PeopleByEmail(mentoring),
        sign_in_requests=SignInRequests(pool),
        oidc_sign_ins=PendingSignIns(pool) if settings.oidc else None,
    )


# The projections ---------------------------------------------------------------------


@contextmanager
def reporting(settings: Settings) -> Iterator[tuple[Mentoring, ReportingDatabase]]:
    """The application the projections read events through, and their database;
    the application is closed on exit."""
    # The cipher decrypts; a small pool; and no DDL: the API creates the event store
    # (processes that start together would race on eventsourcing's CREATE OR
    # REPLACE FUNCTION).
    app = Mentoring(
        env=store_env(settings)
        | {
            "MENTORING_POSTGRES_POOL_SIZE": "1",
            "MENTORING_POSTGRES_MAX_OVERFLOW": "9",
            "MENTORING_CREATE_TABLE": "false",
        }
    )
    database_url = database_url_of(settings)
    try:
        yield app, ReportingDatabase(url=database_url, env=postgres_env(database_url))
    finally:
        app.close()


def create_reporting_schema(settings: Settings) -> None:
    """Every projection's tables and views, and the access log (idempotent)."""
    with reporting(settings) as (app, database):
        runner.create_reporting_schema(app, database)


def run_projections(
    settings: Settings,
    stop: threading.Event,
    *,
    names: Sequence[str] | None = None,
    batch_size: int = 1000,
    poll_interval: float = 1.0,
    on_batch: BatchListener | None = None,
    longest_pause: float = 30.0,
) -> None:
    """The projector (`mentoring project`): projections.runner.run_projections."""
    with reporting(settings) as (app, database):
        runner.run_projections(
            app,
            database,
            stop,
            names=names,
            batch_size=batch_size,
            poll_interval=poll_interval,
            on_batch=on_batch,
            longest_pause=longest_pause,
        )


def catch_up(
    settings: Settings, *, names: Sequence[str] | None = None, batch_size: int = 5000
) -> dict[str, int]:
    """Projections up to the head once: projections.runner.catch_up."""
    with reporting(settings) as (app, database):
        return runner.catch_up(app, database, names=names, batch_size=batch_size)


def rebuild(settings: Settings, name: str, *, batch_size: int = 20000) -> RebuildResult:
    """`mentoring rebuild NAME`: projections.runner.rebuild."""
    with reporting(settings) as (app, database):
        return runner.rebuild(app, database, name, batch_size=batch_size)


def rebuild_all(
    settings: Settings,
    *,
    names: Sequence[str] | None = None,
    batch_size: int = runner.ALL_BATCH_SIZE,
    on_progress: ProgressListener | None = None,
) -> AllRebuilt:
    """`mentoring rebuild` (all): projections.runner.rebuild_all."""
    with reporting(settings) as (app, database):
        return runner.rebuild_all(
            app, database, names=names, batch_size=batch_size, on_progress=on_progress
        )


# The worker and the relay -------------------------------------------------------------


async def connect_temporal(settings: Settings, stop: asyncio.Event) -> Client | None:
    """A client of the configured Temporal namespace, once it answers; None if
    `stop` is set first."""
    address = settings.temporal_address or DEFAULT_TEMPORAL_ADDRESS
    return await connect_to_temporal(address, settings.temporal_namespace, stop)


async def serve_worker(
    settings: Settings,
    stop: asyncio.Event,
    *,
    max_concurrent_activities: int = MAX_CONCURRENT_ACTIVITIES,
) -> None:
    """The worker (`mentoring worker`) until `stop` is set; waits for Temporal if it
    is not up yet. Creates the outbox table if it is missing."""
    # Connections open as activities need them, up to one per activity thread. A
    # relationship's timers fire days apart, so a small aggregate cache does.
    mentoring = Mentoring(
        env=store_env(settings)
        | {
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": str(max_concurrent_activities),
            "AGGREGATE_CACHE_MAXSIZE": "1000",
        }
    )
    pool = ConnectionPool(database_url_of(settings), min_size=1, max_size=4, open=True)
    try:
        outbox = Outbox(pool)
        outbox.create_table()
        client = await connect_temporal(settings, stop)
        if client is None:
            return
        await start_retention(client, settings.temporal_task_queue)
        retention = RetentionActivities(
            partial(erase_expired, mentoring, pool, mail=mail_directory(settings).directory)
        )
        await run_worker(
            client,
            RelationshipActivities(mentoring, outbox),
            stop,
            task_queue=settings.temporal_task_queue,
            max_concurrent_activities=max_concurrent_activities,
            survey_rounds=SurveyRoundActivities(mentoring.survey_rounds.get),
            retention=retention,
        )
    finally:
        pool.close()
        mentoring.close()


async def serve_relay(settings: Settings, stop: asyncio.Event, *, window: int = WINDOW) -> None:
    """The relay (`mentoring relay`) until `stop` is set; waits for Temporal if it
    is not up yet. Raises what stops it (the database going away for good)."""
    client = await connect_temporal(settings, stop)
    if client is None:
        return
    # A listening connection, a reading one and the tracking writes: a small pool.
    env = store_env(settings) | {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "2"}
    await run_relay(
        client, Mentoring, env, stop, task_queue=settings.temporal_task_queue, window=window
    )


# The mail sender ---------------------------------------------------------------------


def serve_sender(settings: Settings, stop: threading.Event, *, poll_interval: float = 1.0) -> None:
    """The sender (`mentoring send`) until `stop` is set: services.mail.sender.
    Raises ConfigError for a malformed MENTORING_SMTP_URL."""
    transport = transport_from(settings)
    mentoring = Mentoring(
        env=store_env(settings)
        | {
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "2",
            "MENTORING_CREATE_TABLE": "false",
        }
    )
    pool = ConnectionPool(
        database_url_of(settings), min_size=1, max_size=2, open=True, kwargs={"autocommit": True}
    )
    try:
        sender = Sender(
            mentoring,
            pool,
            StaffStore(pool),
            transport,
            mail_from=settings.mail_from,
            public_url=settings.public_url,
        )
        sender.create_tables()
        sender.run(stop, poll_interval)
    finally:
        pool.close()
        mentoring.close()


# Everything on one machine ----------------------------------------------------------


def worker_and_relay(settings: Settings) -> WorkerAndRelay:
    """The worker and the relay in a thread of their own, not yet started."""
    return WorkerAndRelay(partial(serve_worker, settings), partial(serve_relay, settings))


def start_background(settings: Settings) -> Background:
    """What `mentoring up` runs beside the API, started: the Temporal dev server
    (only when no Temporal address is given), the worker and the relay, the
    projections, whose tables are created first, and the mail sender."""
    transport_from(settings)  # a malformed MENTORING_SMTP_URL stops `up` here, in one line
    create_reporting_schema(settings)
    dev_server = None
    temporal_address = settings.temporal_address
    if temporal_address is None:
        dev_server = start_dev_server(
            settings.var_dir / "temporal",
            port=settings.dev_server_port,
            ui_port=settings.dev_server_ui_port,
        )
        temporal_address = dev_server.address
        settings = replace(settings, temporal_address=temporal_address)
    stop_projections = threading.Event()
    projections = threading.Thread(
        target=run_projections, args=(settings, stop_projections), name="projections", daemon=True
    )
    sender = threading.Thread(
        target=serve_sender, args=(settings, stop_projections), name="sender", daemon=True
    )
    temporal = worker_and_relay(settings)
    projections.start()
    temporal.start()
    sender.start()
    return Background(temporal_address, temporal, projections, stop_projections, dev_server, sender)
