"""The topics of the event classes the projections read, and how to name an event.

Topics are what the event store filters on (`select_notifications(topics=...)`), so
each projection lists exactly the events it consumes; `audit_log` reads all. Every
list here is derived from the aggregates' declared event classes.
"""

from dataclasses import fields

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.lifecycle import STATE_EVENTS
from domain.people import Mentor
from domain.relationship import Relationship


def events_of(aggregate: type[Aggregate]) -> tuple[type[Aggregate.Event], ...]:
    """Every event class an aggregate records: the nested event classes that carry
    an `actor`, as each of its events does (its base `Event`, and the `Created` the
    library defines on every aggregate, do not)."""
    return tuple(
        value
        for value in vars(aggregate).values()
        if isinstance(value, type)
        and issubclass(value, aggregate.Event)
        and "actor" in {field.name for field in fields(value)}
    )


def topics(*event_classes: type[Aggregate.Event]) -> tuple[str, ...]:
    """The stored topics of event classes."""
    return tuple(get_topic(event_class) for event_class in event_classes)


def event_name(event_class: type) -> str:
    """`Relationship.Matched`: the aggregate class and the event, as in the audit log."""
    return str(event_class.__qualname__)


ALL_RELATIONSHIP_TOPICS = topics(*events_of(Relationship))
STATE_TOPICS = topics(*STATE_EVENTS)
MENTOR_TOPICS = topics(*events_of(Mentor))
