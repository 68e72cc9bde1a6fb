"""Survey rounds: a coordinator asks a scheme's cohort at one date; each person in
scope answers once while the round is open, whatever became of their pairing."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.responses import JSONResponse

from domain.survey_round import NotInScope, SurveyRound
from services.access import Action, Forbidden, check_scheme, person_of
from services.api.answers import Answer, Day, Position
from services.api.deps import MentoringDep, require
from services.api.problems import AUTHENTICATED, COMMAND, ONE_RECORD, problem
from services.api.schemas import SurveyResponseIn, SurveyRoundIn
from services.application import Mentoring
from services.auth import Principal

router = APIRouter(tags=["survey rounds"], responses=AUTHENTICATED)

RoundRunner = Annotated[Principal, Depends(require(Action.RUN_SURVEY_ROUNDS))]
RoundReader = Annotated[Principal, Depends(require(Action.READ_AGGREGATE_REPORTS))]
Respondent = Annotated[Principal, Depends(require(Action.ANSWER_SURVEY_ROUND))]


class Round(Answer):
    """A survey round and how many of those it asks have answered (`response_rate`
    0..1, null when it asks no one). `open`: it takes answers today (UTC)."""

    id: UUID
    scheme_id: UUID
    name: str
    stage: str
    cohort: str | None
    audience: str
    opens_on: Day
    closes_on: Day
    invited: int
    responded: int
    response_rate: float | None
    open: bool


class SavedRound(Round):
    """The round as a command left it."""

    position: Position


def round_view(survey_round: SurveyRound, mentoring: Mentoring) -> dict[str, Any]:
    invited = survey_round.invited
    return {
        "id": survey_round.id,
        "scheme_id": survey_round.scheme_id,
        "name": survey_round.name,
        "stage": survey_round.stage,
        "cohort": survey_round.cohort,
        "audience": survey_round.audience.value,
        "opens_on": survey_round.opens_on.isoformat(),
        "closes_on": survey_round.closes_on.isoformat(),
        "invited": invited,
        "responded": survey_round.responded,
        "response_rate": survey_round.responded / invited if invited else None,
        "open": survey_round.is_open(mentoring.survey_rounds.today()),
    }


@router.post(
    "/v1/schemes/{scheme_id}/survey-rounds",
    status_code=status.HTTP_201_CREATED,
    response_model=SavedRound,
    responses=COMMAND,
    summary="Open a survey round for a scheme, a cohort, a stage and an audience",
)
def schedule_round(
    scheme_id: UUID, body: SurveyRoundIn, principal: RoundRunner, mentoring: MentoringDep
) -> dict[str, Any]:
    """Everyone in scope (the cohort's mentees, and their mentors; without a cohort,
    the scheme's) is fixed now and emailed a link to the form when the round opens,
    with a reminder two days before it closes. Dates are UTC days, both inclusive."""
    check_scheme(principal, scheme_id, "scheme", scheme_id)
    saved = mentoring.survey_rounds.schedule(
        scheme_id,
        name=body.name,
        stage=body.stage,
        cohort=body.cohort,
        audience=body.audience,
        opens_on=body.opens_on,
        closes_on=body.closes_on,
        actor=principal.actor,
    )
    return round_view(saved.aggregate, mentoring) | {"position": saved.position}


@router.get("/v1/survey-rounds/{round_id}", response_model=Round, responses=ONE_RECORD)
def get_round(round_id: UUID, principal: RoundReader, mentoring: MentoringDep) -> dict[str, Any]:
    """The round with its response counts (no one's answers)."""
    survey_round = mentoring.survey_rounds.get(round_id)
    check_scheme(principal, survey_round.scheme_id, "survey round", round_id)
    return round_view(survey_round, mentoring)


@router.post(
    "/v1/survey-rounds/{round_id}/responses",
    status_code=status.HTTP_201_CREATED,
    response_model=SavedRound,
    responses=COMMAND,
    summary="Answer a survey round that asks you; once, while it is open",
)
def answer_round(
    round_id: UUID, body: SurveyResponseIn, principal: Respondent, mentoring: MentoringDep
) -> dict[str, Any]:
    """A mentor or mentee the round asks answers for themselves: 403 for anyone else,
    409 before it opens, after it closes (the end of `closes_on`, UTC) or a second
    time, 422 for an answer to no question of the round's stage and their audience."""
    saved = mentoring.survey_rounds.answer(
        round_id, respondent_id(principal), dict(body.answers), principal.actor
    )
    return round_view(saved.aggregate, mentoring) | {"position": saved.position}


def respondent_id(principal: Principal) -> UUID:
    """The mentor or mentee answering; Forbidden for a token of no one."""
    person = person_of(principal)
    if person is None:
        raise Forbidden("only the mentor or mentee asked answers a survey round")
    return person[1]


def _not_in_scope(request: Request, error: Exception) -> JSONResponse:
    return problem(403, "Forbidden", str(error), "forbidden")


def install(app: FastAPI) -> None:
    """NotInScope refuses who is asking, not the round's state: 403, not 409."""
    app.add_exception_handler(NotInScope, _not_in_scope)
