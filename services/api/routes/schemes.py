"""Schemes: settings, cohorts, objectives, survey, governance roles, and pairing a
cohort at once."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status

from services.access import Action, check_scheme, own_scheme_id
from services.api import answers
from services.api.deps import MentoringDep, PrincipalDep, require
from services.api.problems import AUTHENTICATED, COMMAND, CREATION, ONE_RECORD
from services.api.schemas import MatchCohortIn, RoleIn, SchemeIn, SchemePatch, given
from services.auth import Principal
from services.errors import NotFound
from services.views import cohort_run_view, saved_view, scheme_view

router = APIRouter(prefix="/v1/schemes", tags=["schemes"], responses=AUTHENTICATED)

SchemeManager = Annotated[Principal, Depends(require(Action.MANAGE_SCHEMES))]
CohortMatcher = Annotated[Principal, Depends(require(Action.MATCH_COHORT))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.SavedScheme,
    responses=CREATION,
    summary="Create a scheme; timers left out take their defaults",
)
def create_scheme(
    body: SchemeIn, principal: SchemeManager, mentoring: MentoringDep
) -> dict[str, Any]:
    settings = body.model_dump(exclude_none=True)
    saved = mentoring.create_scheme(settings, principal.actor)
    return saved_view(scheme_view(saved.aggregate), saved.position)


@router.get("/{scheme_id}", response_model=answers.Scheme, responses=ONE_RECORD)
def get_scheme(scheme_id: UUID, principal: PrincipalDep, mentoring: MentoringDep) -> dict[str, Any]:
    """Any role may read a scheme's settings; mentors and mentees their own scheme's."""
    check_scheme(principal, scheme_id, "scheme", scheme_id)
    own = own_scheme_id(principal, mentoring)
    if own is not None and own != scheme_id:
        raise NotFound("scheme", scheme_id)
    return scheme_view(mentoring.get_scheme(scheme_id))


@router.patch(
    "/{scheme_id}",
    response_model=answers.SavedScheme,
    responses=COMMAND,
    summary="Change a scheme's settings; timers and matching settings given are merged in",
)
def change_scheme(
    scheme_id: UUID, body: SchemePatch, principal: SchemeManager, mentoring: MentoringDep
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if "timers" in changes:
        changes["timers"] = {k: v for k, v in changes["timers"].items() if v is not None}
    if "matching" in changes:
        changes["matching"] = given(changes["matching"])
    saved = mentoring.change_scheme(scheme_id, changes, principal.actor)
    return saved_view(scheme_view(saved.aggregate), saved.position)


@router.post(
    "/{scheme_id}/roles",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.SavedScheme,
    responses=COMMAND,
    summary="Give a governance role to a person from a date",
)
def assign_role(
    scheme_id: UUID, body: RoleIn, principal: SchemeManager, mentoring: MentoringDep
) -> dict[str, Any]:
    saved = mentoring.assign_scheme_role(
        scheme_id, body.role, body.person, body.from_, principal.actor
    )
    return saved_view(scheme_view(saved.aggregate), saved.position)


@router.post("/{scheme_id}/match-cohort", response_model=answers.CohortRun, responses=COMMAND)
def match_cohort(
    scheme_id: UUID,
    principal: CohortMatcher,
    mentoring: MentoringDep,
    body: MatchCohortIn | None = None,
) -> dict[str, Any]:
    """Pair every request of the scheme waiting for a mentor at once, by the optimal
    assignment, and invite each proposal; with `dry_run`, only propose. Each
    request left unmatched comes with its reasons."""
    check_scheme(principal, scheme_id, "scheme", scheme_id)
    dry_run = body is not None and body.dry_run
    return cohort_run_view(mentoring.matchmaking.match_cohort(scheme_id, dry_run, principal.actor))
