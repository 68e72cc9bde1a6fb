"""Every setting of every process, read from environment variables in one place."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from domain.durations import parse_duration
from domain.errors import InvalidValue
from workflows.model import TASK_QUEUE

# Where the worker and relay find Temporal when MENTORING_TEMPORAL_ADDRESS is not set
# (`mentoring up` starts its dev server instead).
DEFAULT_TEMPORAL_ADDRESS = "127.0.0.1:7233"
# How many tokens that are not valid a client address may present in a minute
# (services.throttle) when MENTORING_AUTH_FAILURES_PER_MINUTE is not set.
DEFAULT_AUTH_FAILURES_PER_MINUTE = 20
# Who the service's mail is from when MENTORING_MAIL_FROM is not set.
DEFAULT_MAIL_FROM = "Mentoring scheme <mentoring@localhost>"
# How long a signed-in session lasts without a request, and at most, when
# MENTORING_SESSION_IDLE and MENTORING_SESSION_LIFETIME are not set.
DEFAULT_SESSION_IDLE = timedelta(minutes=30)
DEFAULT_SESSION_LIFETIME = timedelta(hours=12)
# The most API processes `mentoring up` and `api` start by default, one per core
# up to this, when MENTORING_API_WORKERS is not set.
MAX_DEFAULT_API_WORKERS = 4


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


OIDC_VARIABLES = (
    "MENTORING_OIDC_ISSUER",
    "MENTORING_OIDC_CLIENT_ID",
    "MENTORING_OIDC_CLIENT_SECRET",
)


@dataclass(frozen=True)
class OidcSettings:
    """Single sign-on through an OpenID Connect provider (services.web.oidc): its
    issuer URL (discovery is at `{issuer}/.well-known/openid-configuration`) and
    the service's client id and secret there."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    """The MENTORING_* variables, each read here and nowhere else (README,
    "Configuration"). `database_url` None means the embedded PostgreSQL;
    `temporal_address` None means the dev server (`up`) or DEFAULT_TEMPORAL_ADDRESS.
    `smtp_url` None means mail is written as `.eml` files under `var_dir/mail`;
    `public_url` is where people reach the pages, for the links in mail;
    `session_idle` and `session_lifetime` bound a signed-in session; `oidc` None
    means no single sign-on, only the emailed link; `api_workers` is how many
    processes serve the API (services.serving)."""

    database_url: str | None
    cipher_key: str | None
    admin_token: str | None
    var_dir: Path
    host: str
    port: int
    temporal_address: str | None
    temporal_namespace: str
    temporal_task_queue: str
    max_body_bytes: int
    auth_failures_per_minute: int
    dev_server_port: int
    dev_server_ui_port: int
    smtp_url: str | None
    mail_from: str
    public_url: str
    session_idle: timedelta
    session_lifetime: timedelta
    oidc: OidcSettings | None = None
    api_workers: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """The settings in `environ` (default: the process's environment), with the
        defaults for those not set. Raises ConfigError for a malformed value."""
        env = os.environ if environ is None else environ
        host = env.get("MENTORING_HOST") or "127.0.0.1"
        port = _int(env, "MENTORING_PORT", 8000)
        return cls(
            database_url=env.get("MENTORING_DATABASE_URL") or None,
            cipher_key=env.get("MENTORING_CIPHER_KEY") or None,
            admin_token=env.get("MENTORING_ADMIN_TOKEN") or None,
            var_dir=Path(env.get("MENTORING_VAR_DIR") or "var"),
            host=host,
            port=port,
            temporal_address=env.get("MENTORING_TEMPORAL_ADDRESS") or None,
            temporal_namespace=env.get("MENTORING_TEMPORAL_NAMESPACE") or "default",
            temporal_task_queue=env.get("MENTORING_TEMPORAL_TASK_QUEUE") or TASK_QUEUE,
            max_body_bytes=_int(env, "MENTORING_MAX_BODY_BYTES", 64 * 1024),
            auth_failures_per_minute=_int(
                env, "MENTORING_AUTH_FAILURES_PER_MINUTE", DEFAULT_AUTH_FAILURES_PER_MINUTE, least=1
            ),
            dev_server_port=_int(env, "MENTORING_TEMPORAL_DEV_PORT", 7233, least=1),
            dev_server_ui_port=_int(env, "MENTORING_TEMPORAL_UI_PORT", 8233, least=1),
            smtp_url=env.get("MENTORING_SMTP_URL") or None,
            mail_from=env.get("MENTORING_MAIL_FROM") or DEFAULT_MAIL_FROM,
            public_url=(env.get("MENTORING_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/"),
            session_idle=_duration(env, "MENTORING_SESSION_IDLE", DEFAULT_SESSION_IDLE),
            session_lifetime=_duration(env, "MENTORING_SESSION_LIFETIME", DEFAULT_SESSION_LIFETIME),
            oidc=_oidc(env),
            api_workers=_int(env, "MENTORING_API_WORKERS", default_api_workers(), least=1),
        )


def default_api_workers() -> int:
    """One API process per core this process may run on, at most
    MAX_DEFAULT_API_WORKERS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_DEFAULT_API_WORKERS))


def _int(env: Mapping[str, str], name: str, default: int, least: int | None = None) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if least is not None and value < least:
        raise ConfigError(f"{name} must be at least {least}, not {value}")
    return value


def _duration(env: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return parse_duration(raw)
    except InvalidValue as error:
        raise ConfigError(f"{name}: {error}") from None


def _oidc(env: Mapping[str, str]) -> OidcSettings | None:
    issuer, client_id, client_secret = (env.get(name) or "" for name in OIDC_VARIABLES)
    if not (issuer or client_id or client_secret):
        return None
    missing = [name for name in OIDC_VARIABLES if not env.get(name)]
    if missing:
        others = "the others" if len(missing) == 1 else "the other"
        raise ConfigError(f"{' and '.join(missing)} must be set with {others} MENTORING_OIDC_*")
    if not issuer.startswith(("https://", "http://")):
        raise ConfigError(f"MENTORING_OIDC_ISSUER must be an http(s) URL, not {issuer!r}")
    return OidcSettings(issuer.rstrip("/"), client_id, client_secret)


def database_url_of(settings: Settings) -> str:
    """The configured database URL. Raises ConfigError when none is set."""
    if settings.database_url is None:
        raise ConfigError("MENTORING_DATABASE_URL must be set")
    return settings.database_url
