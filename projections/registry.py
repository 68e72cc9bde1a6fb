"""Every reporting projection, by name (the name `mentoring rebuild NAME` takes)."""

from projections.audit import AuditProjection
from projections.equity import EquityProjection
from projections.erasure import ErasureProjection
from projections.evaluation import EvaluationProjection
from projections.history import HistoryProjection
from projections.mentor_load import MentorLoadProjection
from projections.relationships import RelationshipsProjection
from projections.stalled import StalledProjection
from projections.view import ReportingProjection

PROJECTIONS: dict[str, type[ReportingProjection]] = {
    projection.name: projection
    for projection in (
        RelationshipsProjection,
        HistoryProjection,
        AuditProjection,
        StalledProjection,
        MentorLoadProjection,
        EvaluationProjection,
        EquityProjection,
        ErasureProjection,
    )
}


def projection_class(name: str) -> type[ReportingProjection]:
    """Raises KeyError naming the known projections."""
    try:
        return PROJECTIONS[name]
    except KeyError:
        known = ", ".join(PROJECTIONS)
        raise KeyError(f"no projection {name!r}; the projections are: {known}") from None


def tracking_table(name: str) -> str:
    """The table (in `reporting`) holding the projection's last applied position."""
    return f"{name}_tracking"
