"""Application errors beside the domain's own (domain.errors, which also declares
NotFound; it is imported here for the callers that look for it in services)."""

from domain.errors import NotFound

__all__ = ["Conflict", "NotFound"]


class Conflict(Exception):
    """Someone else changed the same record at the same moment; try again."""
