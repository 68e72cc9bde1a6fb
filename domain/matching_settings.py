"""A scheme's matching settings: score weights, institution rule, preferred
career-stage gap, regions, and what the hybrid model offers and for how long. Checked here, read by
domain.matching and domain.cohort_scores through Rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict

from domain.careers import GRADE_LEVELS, plain
from domain.durations import parse_duration
from domain.errors import InvalidValue

SPECIALTY, INTERESTS, CAREER_STAGE, INSTITUTION, PREFERENCE = (
    "specialty",
    "interests",
    "career_stage",
    "institution",
    "preference",
)
PARTS = (SPECIALTY, INTERESTS, CAREER_STAGE, INSTITUTION, PREFERENCE)
# A weight counts only against the others: beyond this one is a slip of the keyboard.
MAX_WEIGHT = 100.0
# A preferred career-stage gap spans at most the whole grade ladder, either way.
MAX_CAREER_GAP = GRADE_LEVELS - 1
# How many candidates the hybrid model may offer a mentee to pick from.
MIN_HYBRID_K, MAX_HYBRID_K = 1, 20


class InstitutionRule(StrEnum):
    """Where a scheme wants mentors to work relative to their mentee."""

    ANY = "any"
    LOCAL = "local"  # prefer the same institution, then the same region
    DISTANT = "distant"  # prefer another region, then another institution
    DIFFERENT = "different"  # a mentor at the mentee's institution is excluded


class MatchingSettings(TypedDict):
    """A scheme's matching settings. `weights` need not sum to 1; `regions` maps an
    institution to its region (geography); `hybrid_k` is how many candidates the
    hybrid model offers a mentee, and `pick_within` (an ISO 8601 duration) how long
    the mentee has to pick one before the coordinator is told."""

    weights: dict[str, float]
    institution: str
    career_gap_min: int
    career_gap_max: int
    regions: dict[str, str]
    hybrid_k: int
    pick_within: str


DEFAULT_MATCHING: MatchingSettings = {
    "weights": {
        SPECIALTY: 0.30,
        INTERESTS: 0.25,
        CAREER_STAGE: 0.20,
        INSTITUTION: 0.10,
        PREFERENCE: 0.15,
    },
    "institution": InstitutionRule.DISTANT.value,
    "career_gap_min": 2,
    "career_gap_max": 8,
    "regions": {},
    "hybrid_k": 3,
    "pick_within": "P14D",
}


def validated_matching(
    changes: Mapping[str, Any], current: MatchingSettings = DEFAULT_MATCHING
) -> MatchingSettings:
    """`current` with `changes` applied (weights are merged part by part), checked.

    Raises InvalidValue naming the first problem: an unknown setting or part, a
    negative or non-numeric weight, all weights zero, an unknown institution rule,
    a weight above MAX_WEIGHT, a gap range with min above max or beyond
    MAX_CAREER_GAP, hybrid_k outside MIN_HYBRID_K..MAX_HYBRID_K, or pick_within
    not a duration (domain.durations).
    """
    unknown = set(changes) - set(MatchingSettings.__annotations__)
    if unknown:
        raise InvalidValue(f"not a matching setting: {', '.join(sorted(unknown))}")
    merged: dict[str, Any] = {**current, **changes}
    weights = changes.get("weights", {})
    if not isinstance(weights, Mapping):
        raise InvalidValue("weights must map score parts to numbers")
    merged["weights"] = _checked_weights({**current["weights"], **weights})
    if merged["institution"] not in set(InstitutionRule):
        choices = ", ".join(rule.value for rule in InstitutionRule)
        raise InvalidValue(f"institution must be one of {choices}")
    low, high = merged["career_gap_min"], merged["career_gap_max"]
    if not (_is_int(low) and _is_int(high) and -MAX_CAREER_GAP <= low <= high <= MAX_CAREER_GAP):
        raise InvalidValue(
            "career_gap_min and career_gap_max must be whole numbers, min <= max, "
            f"within {MAX_CAREER_GAP} grades either way"
        )
    if not _is_int(merged["hybrid_k"]) or not MIN_HYBRID_K <= merged["hybrid_k"] <= MAX_HYBRID_K:
        raise InvalidValue(f"hybrid_k must be a whole number from {MIN_HYBRID_K} to {MAX_HYBRID_K}")
    parse_duration(merged["pick_within"])
    regions = merged["regions"]
    if not isinstance(regions, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and plain(v) for k, v in regions.items()
    ):
        raise InvalidValue("regions must map institution names to region names")
    return MatchingSettings(
        weights=merged["weights"],
        institution=merged["institution"],
        career_gap_min=low,
        career_gap_max=high,
        regions=dict(regions),
        hybrid_k=merged["hybrid_k"],
        pick_within=merged["pick_within"],
    )


def _checked_weights(weights: Mapping[str, Any]) -> dict[str, float]:
    unknown = set(weights) - set(PARTS)
    if unknown:
        raise InvalidValue(f"no score part named {', '.join(sorted(unknown))}")
    for name, weight in weights.items():
        is_number = isinstance(weight, int | float) and not isinstance(weight, bool)
        if not (is_number and 0 <= weight <= MAX_WEIGHT):
            raise InvalidValue(f"the weight of {name} must be a number from 0 to {MAX_WEIGHT:g}")
    if not any(weights.values()):
        raise InvalidValue("at least one weight must be above 0")
    return {name: float(weights[name]) for name in PARTS}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Rules:
    """Settings in the form the rules use: enums, and names in plain form."""

    weights: dict[str, float]
    institution: InstitutionRule
    gap: tuple[int, int]
    regions: dict[str, str]

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Rules:
        checked = validated_matching(settings)
        return cls(
            weights=checked["weights"],
            institution=InstitutionRule(checked["institution"]),
            gap=(checked["career_gap_min"], checked["career_gap_max"]),
            regions={plain(k): plain(v) for k, v in checked["regions"].items()},
        )
