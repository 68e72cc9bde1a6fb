"""Every setting of every process is read in services/config.py and nowhere else,
and each one is documented in the README."""

import re
from pathlib import Path

import pytest

from services.config import ConfigError, Settings
from tests.support.settings import variables_the_service_reads
from workflows.model import TASK_QUEUE

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "workflows", "projections", "services")
# Read by the tests' own fixtures, not by the service.
TEST_ONLY = {"MENTORING_TEST_DATABASE_URL"}


def test_no_module_but_the_settings_reads_the_environment() -> None:
    readers = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if re.search(r"\bos\.environ\b|\bgetenv\(", path.read_text())
    }
    assert readers == {"services/config.py"}


def test_the_readme_documents_every_variable_the_service_reads() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(MENTORING_[A-Z_]+)`", table)) - TEST_ONLY
    assert documented == variables_the_service_reads()


def test_the_worker_and_relay_find_temporal_by_namespace_and_task_queue() -> None:
    defaults = Settings.from_env({})
    assert (defaults.temporal_namespace, defaults.temporal_task_queue) == ("default", TASK_QUEUE)
    chosen = Settings.from_env(
        {"MENTORING_TEMPORAL_NAMESPACE": "deanery", "MENTORING_TEMPORAL_TASK_QUEUE": "north"}
    )
    assert (chosen.temporal_namespace, chosen.temporal_task_queue) == ("deanery", "north")


def test_failed_authentications_are_throttled_at_twenty_a_minute_unless_set() -> None:
    assert Settings.from_env({}).auth_failures_per_minute == 20
    chosen = Settings.from_env({"MENTORING_AUTH_FAILURES_PER_MINUTE": "5"})
    assert chosen.auth_failures_per_minute == 5
    with pytest.raises(ConfigError, match="MENTORING_AUTH_FAILURES_PER_MINUTE must be at least 1"):
        Settings.from_env({"MENTORING_AUTH_FAILURES_PER_MINUTE": "0"})


def test_the_api_is_served_by_one_process_per_core_up_to_four_unless_set() -> None:
    from services.config import MAX_DEFAULT_API_WORKERS, default_api_workers

    assert 1 <= Settings.from_env({}).api_workers == default_api_workers()
    assert default_api_workers() <= MAX_DEFAULT_API_WORKERS == 4
    assert Settings.from_env({"MENTORING_API_WORKERS": "3"}).api_workers == 3
    with pytest.raises(ConfigError, match="MENTORING_API_WORKERS must be at least 1"):
        Settings.from_env({"MENTORING_API_WORKERS": "0"})


def test_workers_on_the_command_line_are_a_whole_number_from_one() -> None:
    from services.cli import parser

    assert parser().parse_args(["up", "--workers", "2"]).workers == 2
    assert parser().parse_args(["api"]).workers is None
    for wrong in ("0", "two"):
        with pytest.raises(SystemExit) as exited:
            parser().parse_args(["api", "--workers", wrong])
        assert exited.value.code == 2
