"""The mail directory of the embedded default, and how MENTORING_SMTP_URL is read."""

from email.message import EmailMessage
from pathlib import Path

import pytest

from services.config import ConfigError, Settings
from services.mail.transport import MailDirectory, SmtpServer, transport_from


def message(message_id: str, subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "s@localhost", "ada@nhs.net", subject
    mail["Message-ID"] = message_id
    mail.set_content("Hello")
    return mail


def test_a_message_sent_twice_is_one_file_read_back_whole(tmp_path: Path) -> None:
    directory = MailDirectory(tmp_path / "mail")
    directory.send(message("<notice-7.a1@mentoring>", "First"))
    directory.send(message("<notice-7.a1@mentoring>", "First"))
    directory.send(message("<sign-in/../x@mentoring>", "Second"))
    stored = directory.messages()
    assert [m.id for m in stored] == ["notice-7.a1", "sign-in_.._x"]
    assert stored[0].message["Subject"] == "First"
    assert stored[0].message.get_content().strip() == "Hello"
    assert directory.message("notice-7.a1") is not None
    assert directory.message("../mail/notice-7.a1") is None
    assert directory.message("nothing") is None
    assert not list((tmp_path / "mail").glob(".*"))


def test_unset_smtp_url_means_the_mail_directory_under_var(tmp_path: Path) -> None:
    settings = Settings.from_env({"MENTORING_VAR_DIR": str(tmp_path)})
    transport = transport_from(settings)
    assert isinstance(transport, MailDirectory) and transport.directory == tmp_path / "mail"


def test_an_smtp_url_names_host_port_and_credentials() -> None:
    server = SmtpServer("smtp://coord%40nhs.net:p%3Ass@mail.example:2525")
    assert (server.host, server.port, server.implicit_tls) == ("mail.example", 2525, False)
    assert (server.username, server.password) == ("coord@nhs.net", "p:ss")
    assert SmtpServer("smtps://mail.example").port == 465
    assert SmtpServer("smtp://mail.example").port == 587


def test_a_malformed_smtp_url_is_a_config_error_that_hides_the_password() -> None:
    with pytest.raises(ConfigError, match="must look like") as refused:
        SmtpServer("http://user:secret@mail.example")
    assert "secret" not in str(refused.value)
