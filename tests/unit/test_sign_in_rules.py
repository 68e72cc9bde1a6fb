"""The rules of signing in that need no server: where `next` may lead, when the
session cookie is Secure, how long sessions last, and that no sign-in token
reaches the log."""

import logging
from datetime import timedelta

import pytest

from services.config import ConfigError, Settings
from services.web.links import WithoutLinkTokens
from services.web.session_store import cookie_is_secure, csrf_token
from services.web.sessions import safe_next
from services.web.signin import email_error


@pytest.mark.parametrize(
    "path", ["/", "/relationships/42", "/?tab=mine", "/a/b?c=d&e=f#top", "/café"]
)
def test_a_path_of_the_service_is_where_sign_in_leads(path: str) -> None:
    assert safe_next(path) == path


@pytest.mark.parametrize(
    "path",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "evil.example",
        "javascript:alert(1)",
        "/\r\nSet-Cookie: x=1",
        "/\x00",
        "/" + "a" * 3000,
    ],
)
def test_anything_else_leads_home(path: str | None) -> None:
    assert safe_next(path) == "/"


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("https://localhost", True),
        ("http://mentoring.example.nhs.uk", True),
        ("https://mentoring.example.nhs.uk", True),
        ("http://10.0.0.5:8000", True),
    ],
)
def test_the_session_cookie_is_secure_except_over_http_on_localhost(
    public_url: str, secure: bool
) -> None:
    assert cookie_is_secure(public_url) is secure


def test_sessions_last_thirty_minutes_idle_and_twelve_hours_at_most_unless_set() -> None:
    defaults = Settings.from_env({})
    assert (defaults.session_idle, defaults.session_lifetime) == (
        timedelta(minutes=30),
        timedelta(hours=12),
    )
    chosen = Settings.from_env(
        {"MENTORING_SESSION_IDLE": "PT5M", "MENTORING_SESSION_LIFETIME": "P1D"}
    )
    assert (chosen.session_idle, chosen.session_lifetime) == (
        timedelta(minutes=5),
        timedelta(days=1),
    )
    with pytest.raises(ConfigError, match="MENTORING_SESSION_IDLE"):
        Settings.from_env({"MENTORING_SESSION_IDLE": "thirty minutes"})


def test_a_session_csrf_token_is_its_own_and_does_not_reveal_the_secret() -> None:
    assert csrf_token("one") == csrf_token("one") != csrf_token("two")
    assert "one" not in csrf_token("one")


def test_the_access_log_never_shows_a_link_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/sign-in/link?token=msl_secret-Value_1", "1.1", 200),
        None,
    )
    assert WithoutLinkTokens().filter(record)
    assert "msl_secret" not in record.getMessage()
    assert "/sign-in/link?token=[hidden]" in record.getMessage()


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "Enter your email address"),
        ("name", "correct format"),
        ("name@nhs", "correct format"),
        ("a b@nhs.uk", "correct format"),
        ("x" * 250 + "@nhs.uk", "correct format"),
    ],
)
def test_an_email_that_cannot_be_one_is_named_in_plain_words(email: str, error: str) -> None:
    message = email_error(email)
    assert message is not None and error in message


def test_an_email_address_is_accepted() -> None:
    assert email_error("priya.nair@example.nhs.uk") is None
