"""An anonymous equity record: what the equity counts need of a mentee who is erased.

Erasing a mentee destroys their key (services.keys), and with it the demographics
their registration holds, so a rebuild of the `equity` projection could no longer
count them in their groups. In the same write as the erasure, the service records
this instead: a record with a random id of its own (not the mentee's), the scheme, the
demographics, and the four facts of their pairings that the equity view counts.
It holds no id of the person or of their relationships, no name, no date and no
free text. The demographics stay special-category data, sealed under the record's
own key, which no erasure destroys.

A value of theirs that no one else in the scheme holds in that field would single
them out even without their name: the record keeps it as the group `WITHHELD`
instead. Such a group of one was suppressed in the equity report before the
erasure (every count under five is), and its place stays suppressed after it.
"""

from collections.abc import Iterable, Mapping
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.copying import CopiedForCommands
from domain.privacy import Classified
from domain.relationship import Relationship
from domain.vocabulary import EndKind

# The group a demographic value is counted in when its erased holder was the only one.
WITHHELD = "withheld"

Demographics = Mapping[str, str] | None


def shared_with_others(
    demographics: Demographics, others: Iterable[Demographics]
) -> dict[str, str] | None:
    """The demographics, each value kept if someone in `others` holds it in the
    same field, and WITHHELD where no one does."""
    if demographics is None:
        return None
    held: dict[str, set[str]] = {}
    for other in others:
        for field, value in (other or {}).items():
            held.setdefault(field, set()).add(value)
    return {
        field: value if value in held.get(field, ()) else WITHHELD
        for field, value in demographics.items()
    }


class AnonymousEquityRecord(CopiedForCommands, Aggregate):
    """One erased mentee, as the equity counts see them: requested a mentor, was
    matched, met their mentor, had a matched pairing end without blame."""

    class Event(Aggregate.Event, Classified):
        """Every event of an anonymous equity record."""

    class Recorded(Aggregate.Created, Event):
        scheme_id: UUID
        demographics: dict[str, str] | None
        requested: bool
        matched: bool
        met: bool
        no_blame: bool

        SPECIAL_CATEGORY_FIELDS = frozenset({"demographics"})

    @event(Recorded)
    def __init__(
        self,
        scheme_id: UUID,
        demographics: dict[str, str] | None,
        requested: bool,
        matched: bool,
        met: bool,
        no_blame: bool,
    ) -> None:
        self.scheme_id = scheme_id
        self.demographics = demographics
        self.requested = requested
        self.matched = matched
        self.met = met
        self.no_blame = no_blame

    @classmethod
    def of(
        cls,
        scheme_id: UUID,
        demographics: Demographics,
        relationships: Iterable[Relationship],
        others: Iterable[Demographics],
    ) -> "AnonymousEquityRecord":
        """The record of a mentee with these demographics (as registered) and these
        relationships (all of theirs, none open), counted as `reporting.equity`
        counts a mentee's pairs (projections.equity). `others`: the demographics of
        everyone else the scheme's equity report counts (its other mentees, and the
        anonymous records of those erased before)."""
        pairs = list(relationships)
        matched = [pair for pair in pairs if pair.matched_at is not None]
        return cls(
            scheme_id=scheme_id,
            demographics=shared_with_others(demographics, others),
            requested=bool(pairs),
            matched=bool(matched),
            met=any(pair.first_meeting_on is not None for pair in pairs),
            no_blame=any(pair.end_kind == EndKind.NO_BLAME for pair in matched),
        )
