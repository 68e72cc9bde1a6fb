"""Pairing rules for one request: who may mentor whom, how well they fit, the ranked
candidates, and what a match records to show why it was made.

Hard constraints exclude a mentor, each with a stable reason code and a sentence a
coordinator can read. An eligible mentor's fit is a score in [0, 1]: the weighted
mean of named parts, each part with a reason. Weights and preferences are a
scheme's `matching` settings (domain.matching_settings). Pairing a whole cohort at
once is domain.cohort. Pure functions: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.careers import (
    distinct_key_phrases,
    grade_level,
    offered_words,
    plain,
    shared_groups,
    specialty_closeness,
    specialty_key,
)
from domain.matching_settings import (
    CAREER_STAGE,
    DEFAULT_MATCHING,
    INSTITUTION,
    INTERESTS,
    PREFERENCE,
    SPECIALTY,
    InstitutionRule,
    Rules,
    validated_matching,
)
from domain.people import Mentee, Mentor

if TYPE_CHECKING:  # at run time only attributes are read: domain.scheme can import this
    from domain.relationship import Relationship
    from domain.scheme import Scheme

# Bump when a rule, a default, the grade ladder or the specialty groups change
# (here, in domain.careers or domain.matching_settings): a recorded rationale is
# only comparable with others of the same version.
ALGORITHM_VERSION = "1.0"


# Hard constraints -------------------------------------------------------------


@dataclass(frozen=True)
class Exclusion:
    reason: str
    message: str


@dataclass(frozen=True)
class Request:
    """A mentee waiting for a mentor, with what their open request remembers."""

    mentee: Mentee
    preferred_mentor_ids: frozenset[UUID] = frozenset()
    declined_mentor_ids: frozenset[UUID] = frozenset()
    relationship_id: UUID | None = None

    @classmethod
    def of(cls, relationship: Relationship, mentee: Mentee) -> Request:
        return cls(
            mentee=mentee,
            preferred_mentor_ids=frozenset(relationship.preferred_mentor_ids),
            declined_mentor_ids=frozenset(relationship.declined_mentor_ids),
            relationship_id=relationship.id,
        )


def free_places(mentor: Mentor, places_held: int = 0) -> int:
    """Places left once current pairs and `places_held` (invitations awaiting an
    answer, when the caller counts them) are taken; never below 0."""
    return max(mentor.capacity - mentor.load - places_held, 0)


EXCLUSION_REASONS = (
    "other_scheme",
    "left_scheme",
    "no_capacity",
    "unavailable",
    "line_manager",
    "previous_mentor",
    "untrained",
    "declined_this_request",
    "same_institution",
)


def exclusions(
    scheme: Scheme,
    mentor: Mentor,
    mentee: Mentee,
    *,
    settings: Mapping[str, Any] = DEFAULT_MATCHING,
    declined_mentor_ids: Collection[UUID] = (),
    places_held: int = 0,
) -> list[Exclusion]:
    """Every hard constraint the mentor fails for this mentee, in EXCLUSION_REASONS
    order; empty when eligible. `untrained` applies when the scheme requires
    training, `same_institution` when `settings` require a different institution,
    `declined_this_request` to `declined_mentor_ids`. Raises InvalidValue if
    `settings` are invalid."""
    rules = Rules.of(settings)
    return _exclusions(scheme, rules, mentor, mentee, declined_mentor_ids, places_held)


def _exclusions(
    scheme: Scheme,
    rules: Rules,
    mentor: Mentor,
    mentee: Mentee,
    declined: Collection[UUID],
    places_held: int,
) -> list[Exclusion]:
    found = mentor_exclusions(scheme, mentor, places_held)
    found += _pair_exclusions(scheme, rules, mentor, mentee, declined)
    unique = {e.reason: e for e in found}
    return sorted(unique.values(), key=lambda e: EXCLUSION_REASONS.index(e.reason))


_OTHER_SCHEME = Exclusion("other_scheme", "the mentor is not in the mentee's scheme")


def mentor_exclusions(scheme: Scheme, mentor: Mentor, places_held: int) -> list[Exclusion]:
    """The constraints that depend on the mentor alone."""
    found: list[Exclusion] = []
    if mentor.scheme_id != scheme.id:
        found.append(_OTHER_SCHEME)
    if mentor.left_at is not None:
        found.append(Exclusion("left_scheme", "the mentor has left the scheme"))
    if free_places(mentor, places_held) == 0:
        held = f", {places_held} held by invitations" if places_held else ""
        message = f"the mentor is at full capacity ({mentor.capacity}{held})"
        found.append(Exclusion("no_capacity", message))
    if not mentor.available:
        found.append(Exclusion("unavailable", "the mentor is not available"))
    if scheme.require_mentor_training and mentor.trained_on is None:
        found.append(Exclusion("untrained", "the scheme requires mentors to be trained"))
    return found


def _pair_exclusions(
    scheme: Scheme, rules: Rules, mentor: Mentor, mentee: Mentee, declined: Collection[UUID]
) -> list[Exclusion]:
    found: list[Exclusion] = []
    if mentee.scheme_id != scheme.id:
        found.append(_OTHER_SCHEME)
    if mentor.id in mentee.line_manager_ids:
        found.append(Exclusion("line_manager", "the mentor has a management role over the mentee"))
    if mentor.id in mentee.previous_mentor_ids:
        found.append(Exclusion("previous_mentor", "the mentor has mentored this mentee before"))
    if mentor.id in declined:
        message = "this mentor has already declined this request"
        found.append(Exclusion("declined_this_request", message))
    if rules.institution is InstitutionRule.DIFFERENT and _same_institution(mentor, mentee):
        message = "the scheme requires a mentor from a different institution"
        found.append(Exclusion("same_institution", message))
    return found


def _same_institution(mentor: Mentor, mentee: Mentee) -> bool:
    return plain(mentor.institution) == plain(mentee.institution)


# Score ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorePart:
    """One named part of a score. `value` is in [0, 1], or None when the part does
    not apply to this pair (it then counts in neither the sum nor the weights)."""

    name: str
    weight: float
    value: float | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        value = None if self.value is None else round(self.value, 6)
        return {"name": self.name, "weight": self.weight, "value": value, "reason": self.reason}


@dataclass(frozen=True)
class Candidate:
    """An eligible mentor for a mentee: the score is the weighted mean of the parts
    that apply (0 when none applies or all their weights are 0)."""

    mentor_id: UUID
    mentor_name: str
    score: float
    parts: tuple[ScorePart, ...]
    free_places: int

    @property
    def reasons(self) -> list[str]:
        """The parts as sentences, e.g. "specialty (weight 0.3): same specialty (cardiology)"."""
        return [f"{p.name} (weight {p.weight:g}): {p.reason}" for p in self.parts]


def score_candidate(
    request: Request,
    mentor: Mentor,
    *,
    settings: Mapping[str, Any] = DEFAULT_MATCHING,
    places_held: int = 0,
) -> Candidate:
    """This mentor's score for the request, with its parts in PARTS order (for a
    mentor chosen by name, as in the mentee_choice model). Does not check
    eligibility. Raises InvalidValue if `settings` are invalid."""
    return candidate_of(Rules.of(settings), request, mentor, free_places(mentor, places_held))


def weighted_score(parts: Iterable[ScorePart]) -> float:
    """The weighted mean of the parts that apply; 0 when their weights sum to 0."""
    applying = [p for p in parts if p.value is not None]
    total = sum(p.weight for p in applying)
    return sum(p.weight * (p.value or 0.0) for p in applying) / total if total else 0.0


def _parts(rules: Rules, request: Request, mentor: Mentor) -> tuple[ScorePart, ...]:
    mentee, w = request.mentee, rules.weights
    return (
        ScorePart(SPECIALTY, w[SPECIALTY], *_specialty_part(mentee, mentor)),
        ScorePart(INTERESTS, w[INTERESTS], *_interests_part(mentee, mentor)),
        ScorePart(CAREER_STAGE, w[CAREER_STAGE], *_career_part(rules, mentee, mentor)),
        ScorePart(INSTITUTION, w[INSTITUTION], *_institution_part(rules, mentee, mentor)),
        ScorePart(PREFERENCE, w[PREFERENCE], *_preference_part(request, mentor)),
    )


def _specialty_part(mentee: Mentee, mentor: Mentor) -> tuple[float | None, str]:
    if not mentee.specialty_decided or not mentee.specialty.strip():
        return None, "the mentee has not chosen a specialty yet"
    theirs, ours = specialty_key(mentee.specialty), specialty_key(mentor.specialty)
    value = specialty_closeness(theirs, ours)
    if value == 1.0:
        return value, f"same specialty ({mentor.specialty})"
    if value > 0:
        groups = " and ".join(shared_groups(theirs, ours))
        return value, f"related specialties: {mentor.specialty} and {mentee.specialty} ({groups})"
    return value, f"different specialty: {mentor.specialty}, the mentee's is {mentee.specialty}"


def interests_and_objectives(mentee: Mentee) -> chain[str]:
    """What the mentee wants to share with a mentor: interests, then objectives."""
    return chain(mentee.interests, mentee.objectives)


def _interests_part(mentee: Mentee, mentor: Mentor) -> tuple[float | None, str]:
    phrases = distinct_key_phrases(tuple(interests_and_objectives(mentee)))
    if not phrases:
        return None, "the mentee gave no interests or objectives"
    offered = offered_words(tuple(mentor.interests))
    shared = [text for words, text in phrases if words & offered]
    of = f"{len(shared)} of the mentee's {len(phrases)} interests and objectives"
    detail = f": {'; '.join(shared)}" if shared else ""
    return len(shared) / len(phrases), f"shares {of}{detail}"


def career_value(gap_range: tuple[int, int], mentee_level: int, mentor_level: int) -> float:
    """1 inside the preferred range of levels above the mentee, falling to 0 over
    GAP_FALLOFF levels outside it."""
    low, high = gap_range
    gap = mentor_level - mentee_level
    outside = max(low - gap, 0) + max(gap - high, 0)
    return max(1.0 - outside / GAP_FALLOFF, 0.0)


GAP_FALLOFF = 4


def _career_part(rules: Rules, mentee: Mentee, mentor: Mentor) -> tuple[float | None, str]:
    theirs, ours = grade_level(mentee.grade), grade_level(mentor.grade)
    if theirs is None or ours is None:
        unknown = mentee.grade if theirs is None else mentor.grade
        return None, f"grade not recognised: {unknown!r}"
    gap = ours - theirs
    low, high = rules.gap
    levels = f"{abs(gap)} level{'' if abs(gap) == 1 else 's'}"
    position = f"{levels} {'below' if gap < 0 else 'above'} the mentee ({mentee.grade})"
    within = "within" if low <= gap <= high else "outside"
    return (
        career_value(rules.gap, theirs, ours),
        f"{mentor.grade}, {position}; {within} the preferred {low} to {high}",
    )


def _closeness(rules: Rules, institution_a: str, institution_b: str) -> tuple[float, str]:
    """1 for the same institution, 0.5 for another in the same region, else 0."""
    a, b = plain(institution_a), plain(institution_b)
    if a == b:
        return 1.0, f"same institution ({institution_b})"
    region = rules.regions.get(a)
    if region is not None and region == rules.regions.get(b):
        return 0.5, f"another institution ({institution_b}) in the mentee's region"
    elsewhere = " in another region" if region is not None else ""
    return 0.0, f"another institution ({institution_b}){elsewhere}"


def _institution_part(rules: Rules, mentee: Mentee, mentor: Mentor) -> tuple[float | None, str]:
    if rules.institution is InstitutionRule.ANY:
        return None, "the scheme has no institution preference"
    closeness, where = _closeness(rules, mentee.institution, mentor.institution)
    local = rules.institution is InstitutionRule.LOCAL
    value = closeness if local else 1.0 - closeness
    return value, f"{where}; the scheme prefers {'local' if local else 'distant'} mentors"


def _preference_part(request: Request, mentor: Mentor) -> tuple[float | None, str]:
    wanted = request.preferred_mentor_ids
    if not wanted:
        return None, "the mentee named no preferred mentors"
    if mentor.id in wanted:
        return 1.0, "the mentee asked for this mentor"
    return 0.0, f"not one of the {len(wanted)} mentors the mentee asked for"


# Ranking and rationale ----------------------------------------------------------


def candidate_of(rules: Rules, request: Request, mentor: Mentor, places: int) -> Candidate:
    """The mentor scored for the request, with `places` free; eligibility unchecked."""
    parts = _parts(rules, request, mentor)
    return Candidate(mentor.id, mentor.name, weighted_score(parts), parts, places)


def _rank_key(candidate: Candidate) -> tuple[float, int, str]:
    # Scores equal to 9 places tie; a tie goes to the mentor with more free places
    # (spreading the load), then to the lower id, so equal inputs rank identically.
    return (-round(candidate.score, 9), -candidate.free_places, str(candidate.mentor_id))


def rank_candidates(
    scheme: Scheme,
    request: Request,
    mentors: Iterable[Mentor],
    *,
    settings: Mapping[str, Any] = DEFAULT_MATCHING,
    places_held: Mapping[UUID, int] | None = None,
    limit: int | None = None,
) -> list[Candidate]:
    """The eligible mentors for this request, best first (at most `limit`).

    Ties in score go to the mentor with more free places, then to the lower id.
    `places_held` counts invitations awaiting an answer per mentor, if the caller
    wants them to hold a place. Raises InvalidValue if `settings` are invalid.
    """
    rules, held = Rules.of(settings), places_held or {}
    ranked = sorted(
        (
            candidate_of(rules, request, mentor, free_places(mentor, held.get(mentor.id, 0)))
            for mentor in mentors
            if not _exclusions(
                scheme,
                rules,
                mentor,
                request.mentee,
                request.declined_mentor_ids,
                held.get(mentor.id, 0),
            )
        ),
        key=_rank_key,
    )
    return ranked if limit is None else ranked[:limit]


class MatchBasis(StrEnum):
    """How the mentor was chosen, as recorded in a rationale."""

    RANKED = "ranked_candidates"  # a hybrid mentee's pick of the proposals, or the best
    COORDINATOR = "coordinator_choice"  # a coordinator or admin chose the mentor
    COHORT = "cohort_assignment"  # the optimal assignment of a whole cohort
    MENTEE_CHOICE = "mentee_choice"  # the mentee chose from the directory


def rationale(
    candidate: Candidate, settings: Mapping[str, Any], basis: MatchBasis
) -> dict[str, Any]:
    """What an invitation records to show later why the pair was made: algorithm
    version, basis, weights and preferences in force, score and its parts. Plain
    JSON values only."""
    checked = validated_matching(settings)
    return {
        "algorithm_version": ALGORITHM_VERSION,
        "basis": basis.value,
        "weights": dict(checked["weights"]),
        "preferences": {
            "institution": checked["institution"],
            "career_gap_min": checked["career_gap_min"],
            "career_gap_max": checked["career_gap_max"],
        },
        "score": round(candidate.score, 6),
        "parts": [part.as_dict() for part in candidate.parts],
    }
