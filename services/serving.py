"""How `mentoring up` and `mentoring api` serve the API: uvicorn, in this process or
in several worker processes sharing one listening socket.

With one worker the app is served here, on the runtime the command built. With more,
uvicorn's supervisor binds the socket here, starts the workers (spawned: each is a
new interpreter) and keeps them running: a worker that dies is replaced, and SIGINT
or SIGTERM stops them all before `serve` returns; a worker whose parent dies (killed
with SIGKILL) is killed too. Each worker builds a runtime of its own
(services.bootstrap.build_worker_runtime: its own pools on the same database) from
the settings it is handed, and closes it when it stops. What the API's processes
must share is kept in PostgreSQL.

This module imports little at the top: a new worker unpickles its factory from it
before it can answer the supervisor's first health check.
"""

import ctypes
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.config import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from services.runtime import Runtime

# prctl(2): the signal a process gets when its parent dies (Linux).
PR_SET_PDEATHSIG = 1
# How long a worker has to answer the supervisor's health check, which is as long as
# a new one may take to start (importing the service takes seconds on a busy machine).
WORKER_HEALTHCHECK_SECONDS = 30


@dataclass(frozen=True)
class WorkerApp:
    """The app factory each worker process calls (uvicorn's `factory`): picklable,
    as the settings are, so that the supervisor can hand it to a new interpreter.
    `parent_pid` is the supervisor's."""

    settings: Settings
    parent_pid: int

    def __call__(self) -> "FastAPI":
        import logging

        from services import bootstrap
        from services.api.app import create_app
        from services.web.links import keep_link_tokens_out_of

        stop_with_parent(self.parent_pid)
        # uvicorn configures logging afresh in each worker.
        keep_link_tokens_out_of(logging.getLogger("uvicorn.access"))
        runtime = bootstrap.build_worker_runtime(self.settings)
        app = create_app(runtime)
        app.router.lifespan_context = closing(runtime)
        return app


def closing(runtime: "Runtime") -> Callable[[object], AbstractAsyncContextManager[None]]:
    """A lifespan that closes the runtime when the worker stops."""
    from starlette.concurrency import run_in_threadpool

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await run_in_threadpool(runtime.close)

    return lifespan


def stop_with_parent(parent_pid: int) -> None:
    """In a worker: be killed when the supervisor dies (on Linux; elsewhere a worker
    outlives a supervisor killed with SIGKILL). At once, as the one process of
    `--workers 1` would be: a worker shutting down gracefully with no one to
    supervise it would go on answering on the port that a restarted `up` is about
    to take."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before that
        os.kill(os.getpid(), signal.SIGKILL)


def serve(runtime: "Runtime", workers: int) -> None:
    """Serve the API on the runtime's host and port until SIGINT or SIGTERM: with
    `workers` 1 on `runtime` itself; else in that many processes of their own, each
    building its runtime from `runtime.settings` (on the database whose tables
    `runtime` has made), and `runtime` is closed first: its connections would only
    stand idle."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess
    from uvicorn.supervisors.multiprocess import SIGNALS

    from services.api.app import create_app, server_config

    settings = runtime.settings
    if workers <= 1:
        uvicorn.Server(server_config(create_app(runtime), settings.host, settings.port)).run()
        return
    runtime.close()
    config = server_config(
        WorkerApp(settings, os.getpid()), settings.host, settings.port, workers=workers
    )
    config.timeout_worker_healthcheck = WORKER_HEALTHCHECK_SECONDS
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    try:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    finally:
        for signum, handler in handlers.items():
            if handler is not None:
                signal.signal(signum, handler)
