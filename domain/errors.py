"""Refusals in the domain's own vocabulary, and the id nothing answers to.

The API maps `TransitionRefused` and `NotEligible` to 409, `InvalidValue` to 422
and `NotFound` to 404.
"""

from uuid import UUID


class DomainError(Exception):
    """A command the domain refuses; the message is safe to show to the user."""


class TransitionRefused(DomainError):
    """The command is not allowed in the aggregate's current state."""

    def __init__(self, command: str, state: str, why: str = "") -> None:
        self.command = command
        self.state = state
        message = f"cannot {command} when the relationship is {state}"
        super().__init__(f"{message}: {why}" if why else message)


class NotEligible(DomainError):
    """A mentor cannot be paired with this mentee; `reason` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class InvalidValue(DomainError, ValueError):
    """A value the domain cannot accept whatever the state (a date in the future, say)."""


class NotFound(Exception):
    """No such scheme, mentor, mentee or relationship."""

    def __init__(self, kind: str, object_id: UUID | str) -> None:
        self.kind = kind
        super().__init__(f"no {kind} with id {object_id}")
