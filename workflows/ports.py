"""What the workflow's activities need from the application: a port, so that this
package never imports `services`; services passes its Mentoring application in.

Each timer command takes the fact its timer counted from (`basis`), decides and
records on one read of the relationship (domain.consequences) and answers what
it found (domain.timers.Outcome).
"""

from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.relationship import Relationship
from domain.scheme import Scheme
from domain.timers import Outcome


class TimerCommands(Protocol):
    """The application as the activities see it. Raises domain.errors.NotFound for
    an unknown id and a DomainError for a refusal; anything else may be retried."""

    def get_relationship(self, relationship_id: UUID) -> Relationship: ...

    def get_scheme(self, scheme_id: UUID) -> Scheme: ...

    def flag_stalled(self, relationship_id: UUID, timer: str, basis: datetime) -> Outcome: ...

    def lapse_invitation(self, relationship_id: UUID, basis: datetime) -> Outcome: ...

    def notify_pick_overdue(self, relationship_id: UUID, basis: datetime) -> Outcome: ...

    def escalate(self, relationship_id: UUID, basis: datetime) -> Outcome: ...

    def mark_midpoint_due(self, relationship_id: UUID, basis: datetime) -> Outcome: ...

    def mark_end_due(self, relationship_id: UUID, basis: datetime) -> Outcome: ...

    def complete(self, relationship_id: UUID, basis: datetime) -> Outcome: ...
