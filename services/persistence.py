"""Where events live: the eventsourcing environment for PostgreSQL (or POPO in unit
tests), with AES encryption of stored event state when a cipher key is given."""

from psycopg.conninfo import conninfo_to_dict

from services.config import ConfigError


def postgres_env(database_url: str, cipher_key: str | None = None) -> dict[str, str]:
    """The eventsourcing settings for a PostgreSQL URL (`postgresql://user:pw@host/db`
    or a socket URL `postgresql://user@/db?host=/path`). Raises ConfigError."""
    try:
        parts = conninfo_to_dict(database_url)
    except Exception as error:
        raise ConfigError(f"MENTORING_DATABASE_URL is not a PostgreSQL URL: {error}") from None
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        # eventsourcing's recorder, its statements rendered once (services.recorder).
        "APPLICATION_RECORDER_TOPIC": "services.recorder:RenderedStatementsRecorder",
        "POSTGRES_DBNAME": str(parts.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(parts.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(parts.get("port") or "5432"),
        "POSTGRES_USER": str(parts.get("user") or "postgres"),
        # Must be set even with trust authentication (an empty string works).
        "POSTGRES_PASSWORD": str(parts.get("password") or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "10",
        "POSTGRES_MAX_OVERFLOW": "10",
        # Keep aggregates in memory and fast-forward them with one query for newer
        # events, instead of replaying a relationship's whole history on every read.
        "AGGREGATE_CACHE_MAXSIZE": "10000",
    }
    return env | cipher_env(cipher_key)


def popo_env(cipher_key: str | None = None) -> dict[str, str]:
    """In-memory persistence, for fast unit tests only."""
    return {"PERSISTENCE_MODULE": "eventsourcing.popo"} | cipher_env(cipher_key)


def cipher_env(cipher_key: str | None) -> dict[str, str]:
    if not cipher_key:
        return {}
    return {"CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": cipher_key}


def create_cipher_key() -> str:
    """A new AES-256 key, base64 encoded, for MENTORING_CIPHER_KEY."""
    from eventsourcing.cipher import AESCipher

    return AESCipher.create_key(num_bytes=32)
