"""Copying an aggregate for a command.

The aggregate cache (services.persistence) hands each command a deep copy of the
aggregate it holds, so that a command that fails half-way leaves the cached one
as it was. `copy.deepcopy` rebuilds every UUID and datetime through its pickling
protocol, though neither can change: about four fifths of the copy's cost.
"""

from copy import deepcopy
from datetime import date, timedelta
from typing import Any, Self
from uuid import UUID

# Values that cannot change in place (an Enum of this domain is a str): the copy
# shares them. date covers datetime.
IMMUTABLE = (str, int, float, type(None), bytes, UUID, date, timedelta, frozenset)


class CopiedForCommands:
    """An aggregate whose deep copy shares its immutable values and deep-copies the
    rest (lists, dicts, the pending events)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        copy = type(self).__new__(type(self))
        memo[id(self)] = copy
        copy.__dict__.update(
            (name, value if isinstance(value, IMMUTABLE) else deepcopy(value, memo))
            for name, value in self.__dict__.items()
        )
        return copy
