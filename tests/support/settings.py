"""Settings for a test database, as a process would read them from its MENTORING_*
variables (services/config.py), and the names of those variables."""

from typing import Any

from services.config import Settings


def settings_for(database_url: str, cipher_key: str | None = None, **variables: str) -> Settings:
    """The settings with MENTORING_DATABASE_URL and MENTORING_CIPHER_KEY set to these,
    and `variables` (MENTORING_* names) besides."""
    environment = {"MENTORING_DATABASE_URL": database_url, **variables}
    if cipher_key is not None:
        environment["MENTORING_CIPHER_KEY"] = cipher_key
    return Settings.from_env(environment)


class RecordingEnvironment(dict[str, str]):
    """An empty environment that remembers every variable asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def variables_the_service_reads() -> set[str]:
    environment = RecordingEnvironment()
    Settings.from_env(environment)
    return environment.asked
