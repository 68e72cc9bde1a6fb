"""Settings for a test database, as a process would read them from its MENTORING_*
variables (services/config.py)."""

from services.config import Settings


def settings_for(database_url: str, cipher_key: str | None = None, **variables: str) -> Settings:
    """The settings with MENTORING_DATABASE_URL and MENTORING_CIPHER_KEY set to these,
    and `variables` (MENTORING_* names) besides."""
    environment = {"MENTORING_DATABASE_URL": database_url, **variables}
    if cipher_key is not None:
        environment["MENTORING_CIPHER_KEY"] = cipher_key
    return Settings.from_env(environment)
