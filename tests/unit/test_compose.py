"""docker-compose.yml stays deployable and in step with services/config.py.

There is no Docker engine in CI, so the file is checked as data: every service
reports its health, the API waits for a healthy database, and every MENTORING_*
variable it sets is one the service reads.
"""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.settings import variables_the_service_reads

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read docker-compose.yml")

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SECRETS = ("MENTORING_CIPHER_KEY", "MENTORING_ADMIN_TOKEN", "POSTGRES_PASSWORD")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's `environment:`, written as a mapping or as KEY=VALUE lines."""
    declared = service.get("environment") or {}
    if isinstance(declared, list):
        return dict(line.partition("=")[::2] for line in declared)
    return {key: str(value) for key, value in declared.items()}


def all_settings(compose: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    for name, service in compose["services"].items():
        for variable, value in environment_of(service).items():
            yield name, variable, value


def test_every_service_reports_its_health(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        check = service.get("healthcheck", {}).get("test")
        assert check and check[0] in ("CMD", "CMD-SHELL"), f"{name} has no health check"


def test_the_database_is_healthy_when_it_accepts_connections(compose: dict[str, Any]) -> None:
    check = " ".join(compose["services"]["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in check


def test_the_api_is_built_here_serves_the_api_and_is_checked_on_healthz(
    compose: dict[str, Any],
) -> None:
    api = compose["services"]["api"]
    assert api["build"] in (".", {"context": "."})
    assert (COMPOSE_FILE.parent / "Dockerfile").is_file()
    assert api["command"] == ["mentoring", "api"]
    assert "/healthz" in " ".join(api["healthcheck"]["test"])


def test_the_api_starts_only_once_the_database_is_healthy(compose: dict[str, Any]) -> None:
    assert compose["services"]["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_api_uses_the_compose_database_and_listens_beyond_the_container(
    compose: dict[str, Any],
) -> None:
    api = environment_of(compose["services"]["api"])
    assert "@postgres:5432/" in api["MENTORING_DATABASE_URL"]
    assert api["MENTORING_HOST"] == "0.0.0.0"


def test_every_mentoring_variable_set_is_one_the_service_reads(compose: dict[str, Any]) -> None:
    read = variables_the_service_reads()
    unknown = {
        f"{service}: {variable}"
        for service, variable, _ in all_settings(compose)
        if variable.startswith("MENTORING_") and variable not in read
    }
    assert not unknown, f"set in docker-compose.yml but not read by services/config.py: {unknown}"


def test_no_secret_is_written_into_the_file(compose: dict[str, Any]) -> None:
    for service, variable, value in all_settings(compose):
        if variable in SECRETS:
            assert value.startswith("${"), f"{service}: {variable} must come from the environment"


def test_every_mentoring_command_in_the_file_is_one_the_cli_accepts(
    compose: dict[str, Any],
) -> None:
    """Commands and health checks stay in step with `mentoring --help`."""
    from services.cli import parser

    commands = []
    for service in compose["services"].values():
        for argv in (service.get("command"), service.get("healthcheck", {}).get("test", [])[1:]):
            if argv and argv[0] == "mentoring":
                commands.append(argv)
    assert {argv[1] for argv in commands} >= {"api", "worker", "relay", "project", "check"}
    for argv in commands:
        parser().parse_args(argv[1:])


def test_temporal_keeps_its_state_on_the_same_postgres(compose: dict[str, Any]) -> None:
    temporal = compose["services"]["temporal"]
    assert temporal["environment"]["POSTGRES_SEEDS"] == "postgres"
    assert temporal["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker", "relay"):
        needs = compose["services"][name]["depends_on"]
        assert needs["temporal"]["condition"] == needs["api"]["condition"] == "service_healthy"
        assert compose["services"][name]["environment"]["MENTORING_TEMPORAL_ADDRESS"] == (
            "temporal:7233"
        )


def test_the_sender_delivers_to_mailpit_once_it_and_the_api_are_healthy(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert "8025:8025" in services["mailpit"]["ports"]
    sender = services["sender"]
    assert sender["command"] == ["mentoring", "send"]
    assert environment_of(sender)["MENTORING_SMTP_URL"] == "smtp://mailpit:1025"
    assert {name: dep["condition"] for name, dep in sender["depends_on"].items()} == {
        "api": "service_healthy",
        "mailpit": "service_healthy",
    }
