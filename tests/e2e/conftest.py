"""End-to-end: the real API served by uvicorn on a free port, over a real socket,
on a real PostgreSQL database of its own."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from services import bootstrap
from services.api.app import create_app, server_config
from services.config import Settings
from tests.e2e.client import ADMIN_TOKEN, Api
from tests.support.databases import scratch_database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(postgres_server: str, **variables: str) -> Iterator[Api]:
    """A running API with an admin token, on a database of its own, configured by
    `variables` (MENTORING_* names) besides, and its projections kept up to date
    beside it as `mentoring up` runs them. It listens on MENTORING_PORT if that is
    among the variables (so that MENTORING_PUBLIC_URL can name it), else on a free
    port."""
    with scratch_database(postgres_server) as database_url:
        settings = Settings.from_env(
            {
                "MENTORING_DATABASE_URL": database_url,
                "MENTORING_ADMIN_TOKEN": ADMIN_TOKEN,
                "MENTORING_MAX_BODY_BYTES": "16384",
            }
            | variables
        )
        runtime = bootstrap.build_runtime(settings)
        bootstrap.create_reporting_schema(settings)
        stop_projecting = threading.Event()
        projections = threading.Thread(
            target=bootstrap.run_projections,
            args=(settings, stop_projecting),
            kwargs={"poll_interval": 0.2, "longest_pause": 0.5},
            daemon=True,
        )
        projections.start()
        port = int(variables.get("MENTORING_PORT") or free_port())
        config = server_config(create_app(runtime), "127.0.0.1", port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the API did not start")
            time.sleep(0.05)
        try:
            yield Api(f"http://127.0.0.1:{port}", runtime)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            stop_projecting.set()
            projections.join(timeout=30)
            runtime.close()


@pytest.fixture(scope="module")
def api(postgres_server: str) -> Iterator[Api]:
    """One running API per test module. The authorisation matrix presents some fifty
    unknown tokens from one address within a minute, so failed authentications are
    throttled only far beyond that here (test_tokens.py tests the default)."""
    with serving(postgres_server, MENTORING_AUTH_FAILURES_PER_MINUTE="1000") as api:
        yield api
