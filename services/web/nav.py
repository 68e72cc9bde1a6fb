"""The header's navigation: the main sections a signed-in visitor may open, by role.
Each section's own pages check access themselves (services.access); this only
decides which links to show."""

from dataclasses import dataclass

from services.auth import Principal


@dataclass(frozen=True)
class Section:
    label: str
    path: str
    roles: frozenset[str]


STAFF = frozenset({"admin", "coordinator", "reporter", "auditor"})
SECTIONS: tuple[Section, ...] = (
    Section("Schemes", "/schemes", STAFF),
    Section("Your mentoring", "/my", frozenset({"mentor", "mentee"})),
)


def sections_for(principal: Principal | None) -> list[Section]:
    """The sections shown to `principal`; none to a visitor not signed in."""
    if principal is None:
        return []
    return [section for section in SECTIONS if principal.role in section.roles]
