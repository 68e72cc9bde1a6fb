"""Application errors beside the domain's own (domain.errors, which also declares
NotFound; it is imported here for the callers that look for it in services)."""

from domain.errors import NotFound

__all__ = ["Conflict", "NotFound", "ProjectionsBehind"]


class Conflict(Exception):
    """Someone else changed the same record at the same moment; try again."""


class ProjectionsBehind(Exception):
    """A read waited for the reporting projections and they are still behind the
    event store: `projections` names them (`stalled`: those that cannot go on), and
    a client may try again after `retry_after` seconds."""

    def __init__(self, projections: list[str], stalled: list[str], retry_after: int) -> None:
        stuck = f"; stalled: {', '.join(stalled)}" if stalled else ""
        super().__init__(
            f"the reports are behind the latest changes: {', '.join(projections)} "
            f"not caught up{stuck}"
        )
        self.projections = projections
        self.stalled = stalled
        self.retry_after = retry_after
