"""The `mentoring` command: mistakes get one line and a non-zero exit."""

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from services import bootstrap
from services.auth import hash_token
from tests.support.settings import settings_for


def mentoring(*args: str, database_url: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"MENTORING_DATABASE_URL": database_url} | env,
    )


def test_help_is_there_for_every_command() -> None:
    for args in (
        [],
        ["up"],
        ["token"],
        ["token", "create"],
        ["token", "list"],
        ["token", "revoke"],
    ):
        result = mentoring(*args, "--help")
        assert result.returncode == 0 and "usage: mentoring" in result.stdout


def test_a_token_is_created_from_the_shell_and_works(database_url: str) -> None:
    result = mentoring(
        "token", "create", "--role", "auditor", "--label", "governance", database_url=database_url
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    runtime = bootstrap.build_runtime(settings_for(database_url))
    try:
        principal = runtime.tokens.resolve(token)
        assert principal is not None and principal.role == "auditor"
    finally:
        runtime.close()


def test_tokens_are_listed_and_revoked_from_the_shell(database_url: str) -> None:
    created = mentoring(
        "token",
        "create",
        "--role",
        "reporter",
        "--label",
        "board\tpapers",
        "--expires-in",
        "P7D",
        database_url=database_url,
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()

    listed = mentoring("token", "list", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    token_id, status, role, label, subject, schemes, created_at, expires_at, last_used = line.split(
        "\t"
    )
    assert (status, role, label, subject, schemes, last_used) == (
        "active",
        "reporter",
        "board papers",
        "-",
        "-",
        "-",
    )
    lifetime = datetime.fromisoformat(expires_at) - datetime.fromisoformat(created_at)
    assert lifetime == timedelta(days=7)
    assert secret not in listed.stdout and hash_token(secret) not in listed.stdout

    revoked = mentoring("token", "revoke", token_id, database_url=database_url)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"revoked token {token_id}"
    runtime = bootstrap.build_runtime(settings_for(database_url))
    try:
        assert runtime.tokens.resolve(secret) is None
    finally:
        runtime.close()
    after = mentoring("token", "list", database_url=database_url)
    assert after.stdout.split("\t")[:2] == [token_id, "revoked"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "create", "--role", "mentor", "--label", "x"], "needs a subject id"),
        (["token", "create", "--role", "coordinator", "--label", "x"], "at least one scheme"),
        (
            [
                "token",
                "create",
                "--role",
                "mentee",
                "--label",
                "x",
                "--subject-id",
                "00000000-0000-0000-0000-000000000001",
            ],
            "no mentee with id",
        ),
        (["token", "create", "--role", "wizard", "--label", "x"], "invalid choice"),
        (
            ["token", "create", "--role", "mentor", "--label", "x", "--subject-id", "nope"],
            "invalid UUID",
        ),
        (
            ["token", "create", "--role", "auditor", "--label", "x", "--expires-in", "P400D"],
            "at most P365D",
        ),
        (
            ["token", "create", "--role", "auditor", "--label", "x", "--expires-in", "P1Y"],
            "not an ISO 8601 duration",
        ),
        (["token", "revoke", "00000000-0000-0000-0000-000000000009"], "no token with id"),
        (["token", "revoke", "bootstrap"], "invalid UUID"),
        (["token", "revoke"], "required: ID"),
        (["launch"], "invalid choice"),
    ],
)
def test_mistakes_get_one_line_and_a_non_zero_exit(
    database_url: str, args: list[str], message: str
) -> None:
    result = mentoring(*args, database_url=database_url)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_line_too() -> None:
    result = mentoring(
        "token",
        "create",
        "--role",
        "auditor",
        "--label",
        "x",
        database_url="postgresql://postgres@127.0.0.1:1/none",
        PGCONNECT_TIMEOUT="2",
    )
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_malformed_setting_is_named() -> None:
    result = mentoring("up", MENTORING_PORT="eighty")
    assert result.returncode == 2
    assert "MENTORING_PORT" in result.stderr


def test_check_answers_for_the_database_and_temporal(database_url: str) -> None:
    assert mentoring("check", database_url=database_url).returncode == 0
    unreachable = mentoring(
        "check", database_url=database_url, MENTORING_TEMPORAL_ADDRESS="127.0.0.1:1"
    )
    assert unreachable.returncode == 1
    assert "Temporal at 127.0.0.1:1 does not answer" in unreachable.stderr
    only_database = mentoring(
        "check",
        "--database-only",
        database_url=database_url,
        MENTORING_TEMPORAL_ADDRESS="127.0.0.1:1",
    )
    assert only_database.returncode == 0


def test_rebuild_and_verify_the_audit_trail_from_the_shell(database_url: str) -> None:
    from services.application import Mentoring
    from services.persistence import postgres_env
    from tests.integration.test_event_store import seed

    app = Mentoring(env=postgres_env(database_url))
    try:
        seed(app)
    finally:
        app.close()
    bootstrap.create_reporting_schema(settings_for(database_url))
    unprojected = mentoring("audit", "verify", database_url=database_url)
    assert unprojected.returncode == 1
    assert "the audit trail is incomplete: " in unprojected.stderr
    rebuilt = mentoring("rebuild", "audit_log", database_url=database_url)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("rebuilt audit_log: ")
    verified = mentoring("audit", "verify", database_url=database_url)
    assert verified.returncode == 0, verified.stderr
    assert "hash chain is intact" in verified.stdout

    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "UPDATE reporting.audit_log SET actor_role = 'admin' WHERE position = "
            "(SELECT min(position) FROM reporting.audit_log)"
        )
    broken = mentoring("audit", "verify", database_url=database_url)
    assert broken.returncode == 1
    assert "the audit trail is broken at row" in broken.stderr
