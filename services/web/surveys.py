"""The survey form: `GET/POST /surveys/{round_id}`, for a mentor or mentee the round
asks, reached from the round's emails through the sign-in link.

The page parses the form and calls the same application methods as
`POST /v1/survey-rounds/{id}/responses` (services.survey_rounds), under the same
access policy (Action.ANSWER_SURVEY_ROUND, and only the person asked answers);
the rules (who is in scope, open or closed, once per person, which answers each
question takes) are the round's. Every question may be left out; the answers
given are counted (the evaluation's denominator is those who answered).
"""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import InvalidValue, NotFound
from domain.scheme import SurveyQuestion
from domain.survey_round import NotInScope, RoundRefused, Standing
from services.access import Action, allowed
from services.api.routes.survey_rounds import respondent_id
from services.auth import Principal
from services.survey_rounds import RoundForm
from services.web.csrf import CSRF_FIELD, check_csrf
from services.web.pages import render
from services.web.sessions import SignedIn
from services.web.visitor import runtime_of

router = APIRouter(include_in_schema=False)

CHOICES = {
    "yes_no": [("yes", "Yes"), ("no", "No")],
    "likert5": [(str(n), str(n)) for n in range(1, 6)],
}
NOT_ANSWERED = "Answer at least one question, or leave this page to answer later"


def parsed_answers(
    questions: list[SurveyQuestion], form: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers chosen in the form, as the API takes them, and what is wrong with
    any, by question id (a value no radio button gives, or no answer at all)."""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in questions:
        value = form.get(question["id"])
        if value is None:
            continue
        if question["kind"] == "yes_no" and value in ("yes", "no"):
            answers[question["id"]] = value == "yes"
        elif question["kind"] == "likert5" and value in {"1", "2", "3", "4", "5"}:
            answers[question["id"]] = int(value)
        else:
            errors[question["id"]] = f"Choose one of the answers to: {question['text']}"
    if not answers and not errors and questions:
        errors[questions[0]["id"]] = NOT_ANSWERED
    return answers, errors


def standing_page(standing: Standing, form: RoundForm) -> tuple[str, list[str]]:
    """The title and words of the page for a round that takes no answers now."""
    name = form.round.name
    if standing == Standing.ANSWERED:
        return "Thank you for your answers", [
            f"We have your answers to {name}.",
            "They are counted with everyone else's. Your mentor or mentee does not see them.",
        ]
    if standing == Standing.CLOSED:
        return "This survey has closed", [
            f"{name} closed at the end of {long_date(form)}. It takes no more answers."
        ]
    return "This survey is not open yet", [
        f"{name} opens on {form.round.opens_on.strftime('%-d %B %Y')}. "
        "We will email you a link when it does."
    ]


def long_date(form: RoundForm) -> str:
    return form.round.closes_on.strftime("%-d %B %Y")


async def not_for_you(request: Request) -> Response:
    """The refusal for anyone the round does not ask, or no such round (403)."""
    return await render(
        request,
        "surveys/standing.html",
        {
            "title": "This survey is not for you",
            "scheme_name": None,
            "paragraphs": [
                "This survey asks particular mentors and mentees of a scheme, and you are "
                "not one of them.",
                "If you think you should have been asked, contact your scheme coordinator.",
            ],
        },
        status_code=403,
    )


async def form_of(request: Request, principal: Principal, round_id: UUID) -> RoundForm | None:
    """The round as the signed-in person sees it; None when it does not ask them (or
    they are not a mentor or mentee, or there is no such round)."""
    if not allowed(principal, Action.ANSWER_SURVEY_ROUND) or principal.subject_id is None:
        return None
    rounds = runtime_of(request).mentoring.survey_rounds
    try:
        return await run_in_threadpool(rounds.form, round_id, respondent_id(principal))
    except (NotFound, NotInScope):
        return None


async def show(
    request: Request,
    form: RoundForm,
    *,
    errors: dict[str, str] | None = None,
    given: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if form.standing != Standing.OPEN:
        title, paragraphs = standing_page(form.standing, form)
        words = {"title": title, "scheme_name": form.scheme_name, "paragraphs": paragraphs}
        return await render(request, "surveys/standing.html", words, status_code=status_code)
    context: dict[str, Any] = {
        "form": form,
        "errors": errors,
        "given": given or {},
        "choices": CHOICES,
        "closes_on": long_date(form),
    }
    return await render(request, "surveys/form.html", context, status_code=status_code)


@router.get("/surveys/{round_id}", response_class=HTMLResponse)
async def survey_form(request: Request, round_id: UUID, principal: SignedIn) -> Response:
    form = await form_of(request, principal, round_id)
    if form is None:
        return await not_for_you(request)
    return await show(request, form)


@router.post("/surveys/{round_id}", response_class=HTMLResponse)
async def answer_survey(request: Request, round_id: UUID, principal: SignedIn) -> Response:
    """Record the answers and show the thank-you page (a redirect to the form, which
    then says thank you); bad input re-renders the form with its errors (422)."""
    posted = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    await check_csrf(request, posted.get(CSRF_FIELD, ""))
    form = await form_of(request, principal, round_id)
    if form is None:
        return await not_for_you(request)
    if form.standing != Standing.OPEN:
        return await show(request, form, status_code=409)
    answers, errors = parsed_answers(form.questions, posted)
    if errors:
        return await show(request, form, errors=errors, given=posted, status_code=422)
    rounds = runtime_of(request).mentoring.survey_rounds
    try:
        await run_in_threadpool(
            rounds.answer, round_id, respondent_id(principal), answers, principal.actor
        )
    except InvalidValue as error:
        first = next(iter(answers))
        return await show(request, form, errors={first: str(error)}, given=posted, status_code=422)
    except RoundRefused:
        refreshed = await form_of(request, principal, round_id)
        return await show(request, refreshed or form, status_code=409)
    return RedirectResponse(f"/surveys/{round_id}", status_code=303)


def install(app: FastAPI) -> None:
    """The survey form's pages."""
    app.include_router(router)
