"""`mentoring mail list` and `mentoring mail show ID` read what the embedded default
wrote under var/mail/, so a new user sees exactly what would be sent."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.application import Mentoring
from services.mail.transport import MailDirectory
from services.persistence import create_cipher_key, postgres_env
from tests.support.mail import matched_pair, sender_on

pytestmark = pytest.mark.postgres


def mentoring_mail(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "mail", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"MENTORING_VAR_DIR": str(var_dir)},
    )


def test_the_mail_written_is_listed_and_shown(database_url: str, tmp_path: Path) -> None:
    app = Mentoring(env=postgres_env(database_url, create_cipher_key()))
    try:
        matched_pair(app)
        with sender_on(app, database_url, MailDirectory(tmp_path / "mail")) as sender:
            sender.round()
    finally:
        app.close()

    listed = mentoring_mail(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert {line.split()[0] for line in lines} == {
        p.stem for p in (tmp_path / "mail").glob("*.eml")
    }
    assert all("you have been matched" in line for line in lines)

    message_id = lines[0].split()[0]
    shown = mentoring_mail(tmp_path, "show", message_id)
    assert shown.returncode == 0, shown.stderr
    assert f"Message-ID: <{message_id}@example.nhs.uk>" in shown.stdout
    assert "sign-in?next=" in shown.stdout


@pytest.mark.parametrize("message_id", ["notice-404.mentor.nobody", "../admin-token", ".hidden"])
def test_an_unknown_message_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, message_id: str
) -> None:
    result = mentoring_mail(tmp_path, "show", message_id)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "no message" in result.stderr


def test_an_empty_mail_folder_lists_nothing(tmp_path: Path) -> None:
    result = mentoring_mail(tmp_path, "list")
    assert (result.returncode, result.stdout) == (0, "")


def test_help_is_there_for_the_mail_commands(tmp_path: Path) -> None:
    for args in (["--help"], ["list", "--help"], ["show", "--help"]):
        result = mentoring_mail(tmp_path, *args)
        assert result.returncode == 0 and "usage: mentoring mail" in result.stdout


def test_a_malformed_smtp_url_stops_the_sender_with_one_line(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "send"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ
        | {
            "MENTORING_DATABASE_URL": database_url,
            "MENTORING_SMTP_URL": "mail.example.org:25",
        },
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mentoring: MENTORING_SMTP_URL must look like smtp://user:password@host:587"
        " or smtps://host:465, not 'mail.example.org:25'"
    ]
