"""The deadlines a relationship's workflow holds, asked of the workflow itself (its
`timers` query), for the pair page. Temporal may be down while the pages are up:
then the answer says so, within a couple of seconds, and the page shows the rest.

One client per app, made on first use (`app.state.board_temporal`); a client that
stops answering is dropped and made again on a later ask.
"""

import asyncio
from dataclasses import dataclass
from uuid import UUID

from starlette.requests import Request
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from services.config import DEFAULT_TEMPORAL_ADDRESS
from services.web.visitor import runtime_of
from workflows.model import TimerView
from workflows.workflow import RelationshipWorkflow

ASK_WITHIN = 2.0


@dataclass(frozen=True)
class Deadlines:
    """The workflow's timers, soonest first; `reachable` False when Temporal did not
    answer (then `timers` is empty)."""

    reachable: bool
    timers: list[TimerView]


async def deadlines_of(request: Request, relationship_id: UUID) -> Deadlines:
    """The timers of the relationship's workflow; none if it has no workflow (yet, or
    any longer)."""
    try:
        client = await _client(request)
        handle = client.get_workflow_handle(str(relationship_id))
        timers = await asyncio.wait_for(handle.query(RelationshipWorkflow.timers), ASK_WITHIN)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return Deadlines(True, [])
        request.app.state.board_temporal = None
        return Deadlines(False, [])
    except (TimeoutError, RuntimeError, OSError):
        request.app.state.board_temporal = None
        return Deadlines(False, [])
    ordered = sorted(
        timers, key=lambda t: (t.fires_at is None, t.fires_at.timestamp() if t.fires_at else 0.0)
    )
    return Deadlines(True, ordered)


async def _client(request: Request) -> Client:
    client: Client | None = getattr(request.app.state, "board_temporal", None)
    if client is None:
        settings = runtime_of(request).settings
        address = settings.temporal_address or DEFAULT_TEMPORAL_ADDRESS
        client = await asyncio.wait_for(
            Client.connect(address, namespace=settings.temporal_namespace), ASK_WITHIN
        )
        request.app.state.board_temporal = client
    return client
