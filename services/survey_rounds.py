"""Survey rounds in the application: schedule one for a scheme's cohort, and take
each answer (domain.survey_round). The API (services.api.routes.survey_rounds) and
the form (services.web.surveys) both call these methods, under the same rules.

Who is in scope is fixed when the round is scheduled: the mentees of the scheme
(of the cohort, if one is named), and its mentors (with a cohort, the mentors any
of those mentees has had). People registered later are not asked.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.actors import Actor
from domain.errors import InvalidValue
from domain.people import Mentee, Mentor
from domain.relationship import Relationship
from domain.scheme import SurveyQuestion
from domain.survey_round import Standing, SurveyRound

if TYPE_CHECKING:
    from services.application import Mentoring, Saved


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class RoundForm:
    """A round as the person it asks sees it (SurveyRounds.form)."""

    scheme_name: str
    round: SurveyRound
    standing: Standing
    questions: list[SurveyQuestion]


class SurveyRounds:
    """The survey rounds of the application `mentoring`. `today` is the UTC day the
    rounds are open by (a test may set it)."""

    def __init__(self, mentoring: "Mentoring", today: Callable[[], date] = utc_today) -> None:
        self.mentoring = mentoring
        self.today = today

    def get(self, round_id: UUID) -> SurveyRound:
        return self.mentoring._get(SurveyRound, "survey round", round_id)

    def answers_of(self, person_id: UUID) -> list[tuple[SurveyRound, SurveyRound.Answered]]:
        """Every round the person has answered, with their answers, oldest first."""
        return [
            (survey_round, event)
            for _, survey_round in self.mentoring.all_of(SurveyRound)
            if person_id in survey_round.answered
            for event in self.mentoring.events.get(survey_round.id)
            if isinstance(event, SurveyRound.Answered) and event.person_id == person_id
        ]

    def schedule(
        self,
        scheme_id: UUID,
        *,
        name: str,
        stage: str,
        cohort: str | None,
        audience: str,
        opens_on: date,
        closes_on: date,
        actor: Actor,
    ) -> "Saved[SurveyRound]":
        """Schedule a round asking everyone in scope (module docstring). NotFound for
        an unknown scheme; InvalidValue for a cohort the scheme does not have, and as
        SurveyRound.schedule."""
        from services.application import Saved  # which imports this module

        scheme = self.mentoring.get_scheme(scheme_id)
        if cohort is not None and not scheme.has_cohort(cohort):
            raise InvalidValue(f"the scheme has no cohort {cohort!r}")
        mentee_ids = [
            mentee.id
            for _, mentee in self.mentoring.all_of(Mentee)
            if mentee.scheme_id == scheme_id and (cohort is None or mentee.cohort == cohort)
        ]
        survey_round = SurveyRound.schedule(
            scheme_id,
            scheme.survey,
            name=name,
            stage=stage,
            cohort=cohort,
            audience=audience,
            opens_on=opens_on,
            closes_on=closes_on,
            mentee_ids=mentee_ids,
            mentor_ids=self._mentors_in_scope(scheme_id, cohort, set(mentee_ids)),
            today=self.today(),
            actor=actor,
        )
        return Saved(survey_round, self.mentoring._save(survey_round))

    def _mentors_in_scope(
        self, scheme_id: UUID, cohort: str | None, mentee_ids: set[UUID]
    ) -> list[UUID]:
        if cohort is None:
            return [m.id for _, m in self.mentoring.all_of(Mentor) if m.scheme_id == scheme_id]
        found: dict[UUID, None] = {}
        for _, relationship in self.mentoring.all_of(Relationship):
            if relationship.mentee_id in mentee_ids and relationship.mentor_id is not None:
                found[relationship.mentor_id] = None
        return list(found)

    def form(self, round_id: UUID, person_id: UUID) -> RoundForm:
        """What the person sees of the round: its name, where they stand today and the
        questions it asks them. NotFound; NotInScope if it does not ask them."""
        survey_round = self.get(round_id)
        scheme = self.mentoring.get_scheme(survey_round.scheme_id)
        return RoundForm(
            scheme_name=scheme.name,
            round=survey_round,
            standing=survey_round.standing(person_id, self.today()),
            questions=survey_round.questions(scheme.survey, person_id),
        )

    def answer(
        self, round_id: UUID, person_id: UUID, answers: dict[str, Any], actor: Actor
    ) -> "Saved[SurveyRound]":
        """Record the person's answers (SurveyRound.answer): NotInScope, RoundRefused
        (not open, closed, answered already) or InvalidValue."""
        from services.application import Saved  # which imports this module

        survey_round = self.get(round_id)
        scheme = self.mentoring.get_scheme(survey_round.scheme_id)
        survey_round.answer(person_id, answers, scheme.survey, self.today(), actor)
        return Saved(survey_round, self.mentoring._save(survey_round))
