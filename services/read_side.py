"""Reads served from the `reporting` tables rather than the event store (DESIGN.md:
read endpoints read projections), with read-your-writes: a read first waits until
the projections hold every event recorded so far.

The reports read here, and so do the API's lists: the relationships a caller may
see and the mentor directory, scoped by the access policy as a single record is.
"""

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from domain.vocabulary import State
from projections import queries, status
from projections.registry import PROJECTIONS
from services.access import Action, allowed, people_scope, person_of, relationship_scope
from services.auth import Principal
from services.errors import NotFound, ProjectionsBehind
from services.views import directory_entry, relationship_row_view

CATCH_UP_SECONDS = 5.0
# Projections that are merely busy usually catch up within this; only then are
# stalls looked up, so a read of caught-up projections costs no extra query.
QUICK_SECONDS = 0.05


@contextmanager
def caught_up(
    pool: ConnectionPool, projections: Collection[str] | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """A connection to read the reporting tables on, once the projections (default:
    all) hold every event recorded so far. Raises ProjectionsBehind if they do not
    within CATCH_UP_SECONDS, or at once if one that is behind is stalled."""
    with pool.connection() as connection:
        connection.autocommit = True
        behind, stalled = projections_behind(connection, projections)
        if behind:
            raise ProjectionsBehind(behind, stalled, retry_after=int(CATCH_UP_SECONDS))
        yield connection


def projections_behind(
    connection: psycopg.Connection[Any], projections: Collection[str] | None = None
) -> tuple[list[str], list[str]]:
    """Wait as `caught_up` does; the projections (default: all) still behind the
    head of the event store, and those of them that are stalled."""
    names = list(PROJECTIONS if projections is None else projections)
    head = queries.head_position(connection)
    if queries.wait_for_position(connection, head, timeout=QUICK_SECONDS, projections=names):
        return [], []
    stalled = status.stalls(connection)
    positions = queries.projection_positions(connection)
    if not any(positions[name] < head and name in stalled for name in names):
        queries.wait_for_position(
            connection, head, timeout=CATCH_UP_SECONDS - QUICK_SECONDS, projections=names
        )
        positions = queries.projection_positions(connection)
    behind = [name for name in names if positions[name] < head]
    return behind, [name for name in behind if name in stalled]


@dataclass(frozen=True)
class RelationshipFilter:
    """What a list of relationships asks for; None: any."""

    scheme_id: UUID | None = None
    state: State | None = None
    stalled: bool | None = None
    mentor_id: UUID | None = None
    mentee_id: UUID | None = None


@dataclass(frozen=True)
class RelationshipPage:
    """Relationships as `GET /v1/relationships/{id}` shows them, oldest request first,
    and the cursor of the next page (None on the last)."""

    items: list[dict[str, Any]]
    next_cursor: int | None


def relationships(
    pool: ConnectionPool, principal: Principal, wanted: RelationshipFilter, limit: int, cursor: int
) -> RelationshipPage:
    """One page of the relationships matching `wanted` that the caller may read,
    requested after the one at position `cursor`."""
    scope = relationship_scope(principal)
    with caught_up(pool) as connection:
        page = queries.relationships(
            connection,
            scheme_id=wanted.scheme_id,
            state=None if wanted.state is None else wanted.state.value,
            stalled=wanted.stalled,
            mentor_id=wanted.mentor_id,
            mentee_id=wanted.mentee_id,
            in_schemes=scope.scheme_ids,
            of_mentor=scope.mentor_id,
            of_mentee=scope.mentee_id,
            limit=limit,
            cursor=cursor,
        )
    return RelationshipPage(
        [relationship_row_view(row) for row in page["items"]], page["next_cursor"]
    )


def mentor_directory(
    pool: ConnectionPool,
    principal: Principal,
    scheme_id: UUID | None,
    specialty: str | None,
    has_room: bool | None,
) -> list[dict[str, Any]]:
    """The mentors the caller may browse, in the order they registered, filtered by
    scheme, specialty (any case) and whether they have room. Raises NotFound if the
    calling mentor or mentee is not registered."""
    with_contact = allowed(principal, Action.SEE_CONTACT_DETAILS)
    with caught_up(pool) as connection:
        own = _own_scheme_id(connection, principal)
        rows = queries.mentor_directory(
            connection, scheme_id=scheme_id, in_schemes=people_scope(principal, own)
        )
    found = [
        directory_entry(row, row["places_held"], with_contact)
        for row in rows
        if specialty is None or row["specialty"].lower() == specialty.lower()
    ]
    return [entry for entry in found if has_room is None or entry["has_room"] == has_room]


def _own_scheme_id(connection: psycopg.Connection[Any], principal: Principal) -> UUID | None:
    """The scheme of a mentor or mentee caller; None for every other role."""
    person = person_of(principal)
    if person is None:
        return None
    scheme_id = queries.scheme_of(connection, *person)
    if scheme_id is None:
        raise NotFound(*person)
    return UUID(scheme_id)
