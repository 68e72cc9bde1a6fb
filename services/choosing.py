"""How a mentee chooses a mentor, by the scheme's matching model: whether they may
invite one themselves, and which mentors they choose from. The API and the pages
both ask here."""

from domain.matching import Candidate
from domain.relationship import Relationship
from domain.scheme import Scheme
from domain.vocabulary import MatchingModel
from services.access import Forbidden
from services.application import Mentoring
from services.auth import Principal


def check_may_invite(principal: Principal, scheme: Scheme) -> None:
    """Staff invite in every model; a mentee, except where the scheme assigns
    mentors (Forbidden)."""
    if principal.role == "mentee" and scheme.matching_model == MatchingModel.ASSIGNED:
        raise Forbidden("in this scheme mentors are assigned by the coordinator")


def candidates_for(
    mentoring: Mentoring, principal: Principal, relationship: Relationship, limit: int | None
) -> list[Candidate]:
    """The mentors the caller sees for a request, best first: in a hybrid scheme a
    mentee sees the proposals they pick from, everyone else every eligible mentor.
    Raises TransitionRefused unless the relationship is requested."""
    scheme = mentoring.get_scheme(relationship.scheme_id)
    if principal.role == "mentee" and scheme.matching_model == MatchingModel.HYBRID:
        return mentoring.matchmaking.proposals(relationship.id)[:limit]
    return mentoring.matchmaking.candidates(relationship.id, limit)
