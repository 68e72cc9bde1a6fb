"""The `mentoring` command.

A user's mistake (a bad setting, an unknown id) ends with one line on stderr and a
non-zero exit, never a traceback. What each command runs is built by
services.bootstrap, imported by the commands that need it so that `--help` and
the `check` probe start quickly.
"""

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, NoReturn
from uuid import UUID

import psycopg
import psycopg_pool
from eventsourcing.persistence import OperationalError as StoreUnreachable

from domain.actors import ROLES
from domain.errors import DomainError
from services.auth import DEFAULT_LIFETIME, MAX_LIFETIME, token_lifetime
from services.config import MAX_DEFAULT_API_WORKERS, ConfigError, Settings, database_url_of
from services.errors import NotFound
from services.runtime import Runtime
from workflows.devserver import DevServerError


class UsageError(Exception):
    """A mistake in how the command was called."""


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes in one line, pointing at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    from projections.registry import PROJECTIONS

    top = OneLineParser(
        prog="mentoring",
        description="Formal mentoring schemes for doctors: the relationships service. "
        "Every command is configured by MENTORING_* environment variables (README).",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up",
        help="run everything on one machine",
        description="Start PostgreSQL (embedded unless MENTORING_DATABASE_URL is set), the "
        "Temporal dev server (unless MENTORING_TEMPORAL_ADDRESS is set), the worker, the "
        "relay, the projections, and serve the HTTP API.",
    )
    up.add_argument("--host", help="address to listen on (MENTORING_HOST, 127.0.0.1)")
    up.add_argument("--port", type=int, help="port to listen on (MENTORING_PORT, 8000)")
    add_workers_option(up)

    api = commands.add_parser(
        "api",
        help="serve the HTTP API only (the worker, relay and projector run elsewhere)",
        description="Serve the HTTP API on MENTORING_DATABASE_URL, for deployments that run "
        "the worker, relay and projector as processes of their own.",
    )
    api.add_argument("--host", help="address to listen on (MENTORING_HOST, 127.0.0.1)")
    api.add_argument("--port", type=int, help="port to listen on (MENTORING_PORT, 8000)")
    add_workers_option(api)
    probe = commands.add_parser(
        "check",
        help="exit 0 when the database (and Temporal, if configured) answer",
        description="A health probe: the database answers, and Temporal when "
        "MENTORING_TEMPORAL_ADDRESS is set.",
    )
    probe.add_argument("--database-only", action="store_true", help="do not check Temporal")

    commands.add_parser(
        "worker",
        help="run the Temporal worker (workflows and activities)",
        description="Run the Temporal worker until interrupted.",
    )
    commands.add_parser(
        "relay",
        help="relay recorded events to their workflows",
        description="Relay recorded events to their workflows until interrupted.",
    )
    commands.add_parser(
        "project",
        help="keep the reporting tables up to date",
        description="Run the projections until interrupted.",
    )
    commands.add_parser(
        "send",
        help="deliver the notifications (MENTORING_SMTP_URL, else .eml files in var/mail)",
        description="Send every notice in the outbox to its recipients until interrupted.",
    )
    mail = commands.add_parser(
        "mail",
        help="read the mail written under var/mail/",
        description="The messages written as .eml files when MENTORING_SMTP_URL is unset.",
    )
    mail_commands = mail.add_subparsers(dest="mail_command", required=True, metavar="ACTION")
    mail_commands.add_parser(
        "list", help="one line per message: id, date, to, subject", description="List the mail."
    )
    show = mail_commands.add_parser(
        "show", help="print one message", description="Print one message as it was written."
    )
    show.add_argument("id", metavar="ID", help="the message's id (mail list)")
    rebuild = commands.add_parser(
        "rebuild",
        help="rebuild one reporting projection, or all of them",
        description="Drop one projection's tables (or, without NAME, every projection's) "
        "and rebuild them from the events; all at once reads the events once, showing "
        "progress on stderr.",
    )
    rebuild.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        help=f"one of: {', '.join(sorted(PROJECTIONS))} (default: all)",
    )
    rebuild.add_argument("--all", action="store_true", help="every projection (the default)")
    audit = commands.add_parser(
        "audit", help="check the audit trail", description="The audit trail."
    )
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_commands.add_parser(
        "verify",
        help="check the hash chain; names the first bad row",
        description="Check the audit log's hash chain.",
    )

    keys = commands.add_parser(
        "keys", help="per-person keys", description="The per-person keys of personal data."
    )
    keys_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_commands.add_parser(
        "migrate",
        help="put events of earlier releases under per-person keys",
        description="Encrypt the personal fields of events stored by earlier releases "
        "with their people's keys (run once after upgrading; again changes nothing).",
    )

    token = commands.add_parser("token", help="manage API tokens", description="API tokens.")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser(
        "create", help="issue a bearer token and print it", description="Issue a bearer token."
    )
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--label", required=True, help="who or what the token is for")
    create.add_argument("--subject-id", type=UUID, help="the mentor's or mentee's id")
    create.add_argument(
        "--scheme-id", type=UUID, action="append", default=[], help="a coordinator's scheme"
    )
    create.add_argument(
        "--expires-in",
        default=f"P{DEFAULT_LIFETIME.days}D",
        help=f"an ISO 8601 duration, at most P{MAX_LIFETIME.days}D "
        f"(default P{DEFAULT_LIFETIME.days}D)",
    )
    token_commands.add_parser(
        "list",
        help="list the issued tokens, without their secrets",
        description="One line per issued token: id, status, role, label, subject, schemes, "
        "created, expires, last used (to the minute).",
    )
    revoke = token_commands.add_parser(
        "revoke", help="revoke a token at once", description="Revoke a bearer token."
    )
    revoke.add_argument("id", type=UUID, metavar="ID", help="the token's id (token list)")
    return top


def add_workers_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--workers",
        type=worker_count,
        metavar="N",
        help="API processes to serve with (MENTORING_API_WORKERS; one per core, at most "
        f"{MAX_DEFAULT_API_WORKERS})",
    )


def worker_count(text: str) -> int:
    """A number of processes (API, worker): a whole number, at least 1."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {count}")
    return count


def connect(settings: Settings) -> Runtime:
    from services import bootstrap

    return bootstrap.build_runtime(bootstrap.with_database(settings))


def serve_api(runtime: Runtime) -> None:
    from services import serving

    serving.serve(runtime, runtime.settings.api_workers)


def api_only(settings: Settings) -> None:
    from services import bootstrap

    if settings.database_url is None:
        raise ConfigError("MENTORING_DATABASE_URL must be set to serve the API on its own")
    runtime = bootstrap.build_runtime(settings)
    try:
        print(f"API: http://{settings.host}:{settings.port}  ({served_by(settings)})", flush=True)
        serve_api(runtime)
    finally:
        runtime.close()


def check(settings: Settings, database_only: bool = False) -> int:
    from workflows.connect import temporal_reachable

    psycopg.connect(database_url_of(settings), connect_timeout=5).close()
    if (
        settings.temporal_address
        and not database_only
        and not asyncio.run(temporal_reachable(settings.temporal_address, timeout=5))
    ):
        print(
            f"mentoring: Temporal at {settings.temporal_address} does not answer", file=sys.stderr
        )
        return 1
    return 0


def up(settings: Settings) -> None:
    from services import bootstrap
    from services.embedded import admin_token_from

    configured_database = settings.database_url is not None
    # The bootstrap admin token is configured, never issued (services.auth).
    kept_token = None if settings.admin_token else admin_token_from(settings.var_dir)
    settings = replace(
        bootstrap.with_database(settings), admin_token=settings.admin_token or kept_token
    )
    # Tables first, in this thread: the components below would otherwise race to
    # create the same ones on a new database.
    runtime = bootstrap.build_runtime(settings)
    try:
        background = bootstrap.start_background(settings)
        try:
            runtime.settings = replace(settings, temporal_address=background.temporal_address)
            print_where(settings, configured_database, background, kept_token)
            print_sign_in_link(runtime)
            serve_api(runtime)
        finally:
            background.stop()
    finally:
        runtime.close()


def print_where(
    settings: Settings, configured_database: bool, background: object, kept_token: str | None
) -> None:
    """What runs where; the admin token when it is kept in var/admin-token (None: it
    is MENTORING_ADMIN_TOKEN)."""
    from services.supervisor import Background

    assert isinstance(background, Background)
    database = "MENTORING_DATABASE_URL" if configured_database else f"{settings.var_dir}/pg"
    print(f"PostgreSQL:  {database}")
    if background.dev_server is not None:
        print(
            f"Temporal:    {background.temporal_address} (dev server, state in "
            f"{settings.var_dir}/temporal; web UI {background.dev_server.ui_url})"
        )
    else:
        print(f"Temporal:    {background.temporal_address} (MENTORING_TEMPORAL_ADDRESS)")
    print("Worker, relay, projections and mail sender: running")
    if settings.smtp_url is None:
        print(f"Mail:        {settings.var_dir}/mail (mentoring mail list)")
    else:
        print("Mail:        MENTORING_SMTP_URL")
    print(f"API:         http://{settings.host}:{settings.port}  ({served_by(settings)})")
    if kept_token is None:
        print("Admin token: MENTORING_ADMIN_TOKEN")
    else:
        print(f"Admin token: {kept_token}")
        print(f"             (kept in {settings.var_dir}/admin-token)")
    sys.stdout.flush()


def served_by(settings: Settings) -> str:
    processes = "1 process" if settings.api_workers == 1 else f"{settings.api_workers} processes"
    return f"docs at /docs; {processes}"


def print_sign_in_link(runtime: Runtime) -> None:
    """A new one-time link that signs the bootstrap admin in to the pages."""
    url = runtime.bootstrap_sign_in_url()
    print(f"Sign in:     {url}")
    print("             (the bootstrap admin, once; a new link at each start)", flush=True)


def serve_until_signalled(
    settings: Settings, serve: Callable[[Settings, asyncio.Event], Awaitable[None]]
) -> None:
    """Run the worker or the relay until SIGINT or SIGTERM, logging as it goes."""
    from services import bootstrap

    settings = bootstrap.with_database(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def until_signalled() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop)

    asyncio.run(until_signalled())


def project(settings: Settings) -> None:
    from services import bootstrap

    settings = bootstrap.with_database(settings)
    bootstrap.create_reporting_schema(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    bootstrap.run_projections(settings, stop)


def send(settings: Settings) -> None:
    from services import bootstrap

    settings = bootstrap.with_database(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    bootstrap.serve_sender(settings, stop)


def list_mail(settings: Settings) -> None:
    from services.mail.transport import mail_directory

    for stored in mail_directory(settings).messages():
        message = stored.message
        print(f"{stored.id}  {message['Date']}  {message['To']}  {message['Subject']}")


def show_mail(settings: Settings, message_id: str) -> None:
    from services.mail.transport import mail_directory

    stored = mail_directory(settings).message(message_id)
    if stored is None:
        raise UsageError(
            f"no message {message_id!r} in {settings.var_dir / 'mail'} (see mail list)"
        )
    sys.stdout.write(stored.message.as_string())


def rebuild(settings: Settings, name: str | None, every: bool) -> None:
    from projections.registry import PROJECTIONS
    from services import bootstrap
    from services.progress import Progress

    if name is not None and every:
        raise UsageError("rebuild takes a NAME or --all, not both")
    if name is not None and name not in PROJECTIONS:
        raise UsageError(f"no projection {name!r}; the projections are: {', '.join(PROJECTIONS)}")
    settings = bootstrap.with_database(settings)
    if name is not None:
        result = bootstrap.rebuild(settings, name)
        print(
            f"rebuilt {result.name}: {result.events} events to position {result.position} "
            f"in {result.seconds:.1f} s ({result.events_per_second:,.0f} events/s)"
        )
        return
    rebuilt = bootstrap.rebuild_all(settings, on_progress=Progress(sys.stderr))
    print(
        f"rebuilt all {len(rebuilt.applied)} projections: {rebuilt.events} events to "
        f"position {rebuilt.position} in {rebuilt.seconds:.1f} s "
        f"({rebuilt.events_per_second:,.0f} events/s)"
    )


def migrate_keys(settings: Settings) -> None:
    from services import bootstrap
    from services.application import Mentoring
    from services.key_migration import migrate_keys as migrate

    app = Mentoring(env=bootstrap.store_env(bootstrap.with_database(settings)))
    try:
        result = migrate(app)
    finally:
        app.close()
    print(f"keys migrated: {result.events_sealed} of {result.events_read} events sealed")


def verify_audit(settings: Settings) -> int:
    from projections.runner import verify_audit as verify
    from services import bootstrap

    outcome = verify(database_url_of(bootstrap.with_database(settings)))
    if outcome["ok"]:
        print(f"audit trail verified: {outcome['rows']} rows, the hash chain is intact")
        return 0
    if outcome["first_bad_row"] is None:
        print(
            f"mentoring: the audit trail is incomplete: {outcome['lag']} events recorded "
            f"are not in it (a stalled projection is named by /readyz)",
            file=sys.stderr,
        )
        return 1
    print(
        f"mentoring: the audit trail is broken at row {outcome['first_bad_row']} "
        f"(of {outcome['rows']})",
        file=sys.stderr,
    )
    return 1


def create_token(settings: Settings, args: argparse.Namespace) -> None:
    """Print a new token. Raises InvalidValue for a bad role, subject, scheme or
    lifetime (the lifetime before connecting)."""
    lifetime = token_lifetime(args.expires_in)
    runtime = connect(settings)
    try:
        issued = runtime.issue_token(
            args.role, args.label, args.subject_id, args.scheme_id, lifetime
        )
        print(issued.secret)
    finally:
        runtime.close()


def list_tokens(settings: Settings) -> None:
    runtime = connect(settings)
    try:
        for record in runtime.tokens.tokens():
            print(token_line(record.as_json()))
    finally:
        runtime.close()


def revoke_token(settings: Settings, token_id: UUID) -> None:
    """Revoke a token. Raises NotFound for an unknown id."""
    runtime = connect(settings)
    try:
        if not runtime.tokens.revoke(token_id):
            raise NotFound("token", token_id)
        print(f"revoked token {token_id}")
    finally:
        runtime.close()


def token_line(token: dict[str, Any]) -> str:
    """A listed token on one line, tab-separated, `-` for what it lacks; the label's
    runs of white space (a tab, a line break) become one space."""
    fields = (
        token["id"],
        token["status"],
        token["role"],
        " ".join(token["label"].split()),
        token["subject_id"] or "-",
        ",".join(token["scheme_ids"]) or "-",
        token["created_at"],
        token["expires_at"],
        token["last_used_at"] or "-",
    )
    return "\t".join(fields)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command in ("up", "api"):
        settings = replace(
            settings,
            host=args.host or settings.host,
            port=args.port or settings.port,
            api_workers=args.workers or settings.api_workers,
        )
        (up if args.command == "up" else api_only)(settings)
    elif args.command == "check":
        return check(settings, args.database_only)
    elif args.command in ("worker", "relay"):
        from services import bootstrap

        serve = bootstrap.serve_worker if args.command == "worker" else bootstrap.serve_relay
        serve_until_signalled(settings, serve)
    elif args.command == "project":
        project(settings)
    elif args.command == "send":
        send(settings)
    elif args.command == "mail" and args.mail_command == "list":
        list_mail(settings)
    elif args.command == "mail":
        show_mail(settings, args.id)
    elif args.command == "rebuild":
        rebuild(settings, args.name, args.all)
    elif args.command == "audit":
        return verify_audit(settings)
    elif args.command == "keys":
        migrate_keys(settings)
    elif args.command == "token" and args.token_command == "create":
        create_token(settings, args)
    elif args.command == "token" and args.token_command == "list":
        list_tokens(settings)
    elif args.command == "token":
        revoke_token(settings, args.id)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args, Settings.from_env())
    except (ConfigError, DomainError, NotFound, UsageError) as error:
        print(f"mentoring: {error}", file=sys.stderr)
        return 2
    except DevServerError as error:
        print(f"mentoring: {error}", file=sys.stderr)
        return 1
    except (psycopg.OperationalError, psycopg_pool.PoolTimeout, StoreUnreachable) as error:
        first_line = (str(error).strip() or type(error).__name__).splitlines()[0]
        print(f"mentoring: cannot reach the database: {first_line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        from services.embedded import stop_embedded_postgres

        stop_embedded_postgres()


def entry_point() -> NoReturn:
    """The console script. Skips the interpreter's teardown, where temporalio's
    native runtime can crash after the work is done (DESIGN.md, known hazards)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry_point()
