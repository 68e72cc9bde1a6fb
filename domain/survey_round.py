"""A survey round: a scheme asks everyone in scope the same questions between two dates.

A deanery's review asks every mentee of a cohort at one date, whatever became of
their pairing: the answers of those who never met their mentor matter most. So a
round's scope is people, not pairs: the ids of the mentees and mentors asked, fixed
when the round is scheduled. Each person in scope answers once, while the round is
open, through the scheme's questions for the round's stage and their audience
(domain.relationship.check_answers, the one check of survey answers).

Days are UTC days: a round is open from the start of `opens_on` to the end of
`closes_on`, both in UTC. An answer after that is refused (RoundRefused, 409).
"""

from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor
from domain.copying import CopiedForCommands
from domain.errors import DomainError, InvalidValue
from domain.privacy import Classified
from domain.relationship import check_answers
from domain.scheme import SurveyQuestion, questions_for, survey_stage
from domain.vocabulary import Party

# How long a round may stay open.
LONGEST_ROUND_DAYS = 366


class Audience(StrEnum):
    """Whom a round asks: the mentees, the mentors, or both."""

    MENTEE = "mentee"
    MENTOR = "mentor"
    BOTH = "both"

    @property
    def parties(self) -> tuple[Party, ...]:
        if self == Audience.BOTH:
            return (Party.MENTEE, Party.MENTOR)
        return (Party(self.value),)


class Standing(StrEnum):
    """Where a person stands with a round on a day: it is not open yet, it takes
    their answers, they have answered, or it has closed."""

    NOT_OPEN = "not_open"
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class RoundRefused(DomainError):
    """The round does not take this answer now (not open yet, closed, answered)."""

    def __init__(self, command: str, why: str) -> None:
        self.command = command
        super().__init__(f"cannot {command}: {why}")


class NotInScope(DomainError):
    """The person is not one of those the round asks."""

    def __init__(self) -> None:
        super().__init__("this survey round does not ask you")


class SurveyRound(CopiedForCommands, Aggregate):
    """Who is asked (`mentee_ids`, `mentor_ids`) and who has answered (`answered`)."""

    class Event(Aggregate.Event, Classified):
        """Every event of a survey round."""

    class Scheduled(Aggregate.Created, Event):
        scheme_id: UUID
        name: str
        stage: str
        cohort: str | None
        audience: str
        opens_on: date
        closes_on: date
        mentee_ids: list[UUID]
        mentor_ids: list[UUID]
        actor: Actor

    class Answered(Event):
        """One person's answers; `respondent` is whether they answered as the mentee
        or the mentor."""

        person_id: UUID
        respondent: str
        answers: dict[str, Any]
        actor: Actor

        PSEUDONYMOUS_FIELDS = frozenset({"answers"})

    @event(Scheduled)
    def __init__(
        self,
        scheme_id: UUID,
        name: str,
        stage: str,
        cohort: str | None,
        audience: str,
        opens_on: date,
        closes_on: date,
        mentee_ids: list[UUID],
        mentor_ids: list[UUID],
        actor: Actor,
    ) -> None:
        self.scheme_id = scheme_id
        self.name = name
        self.stage = stage
        self.cohort = cohort
        self.audience = Audience(audience)
        self.opens_on = opens_on
        self.closes_on = closes_on
        self.mentee_ids = mentee_ids
        self.mentor_ids = mentor_ids
        self.answered: dict[UUID, str] = {}

    @classmethod
    def schedule(
        cls,
        scheme_id: UUID,
        survey: list[SurveyQuestion],
        *,
        name: str,
        stage: str,
        cohort: str | None,
        audience: str,
        opens_on: date,
        closes_on: date,
        mentee_ids: list[UUID],
        mentor_ids: list[UUID],
        today: date,
        actor: Actor,
    ) -> "SurveyRound":
        """Schedule a round asking these people. Raises InvalidValue for a blank name,
        an unknown stage or audience, a round closing before it opens, opening in the
        past or lasting more than LONGEST_ROUND_DAYS, or a stage at which the scheme's
        survey asks the audience nothing."""
        if not name.strip():
            raise InvalidValue("name must not be blank")
        survey_stage(stage)
        try:
            asked = Audience(audience)
        except ValueError:
            raise InvalidValue("audience must be mentee, mentor or both") from None
        check_dates(opens_on, closes_on, today)
        for party in asked.parties:
            if not questions_for(survey, stage, party):
                raise InvalidValue(f"the scheme's survey asks {party}s nothing at stage {stage!r}")
        return cls(
            scheme_id=scheme_id,
            name=name.strip(),
            stage=stage,
            cohort=cohort,
            audience=asked.value,
            opens_on=opens_on,
            closes_on=closes_on,
            mentee_ids=mentee_ids if Party.MENTEE in asked.parties else [],
            mentor_ids=mentor_ids if Party.MENTOR in asked.parties else [],
            actor=actor,
        )

    @property
    def invited(self) -> int:
        return len(self.mentee_ids) + len(self.mentor_ids)

    @property
    def responded(self) -> int:
        return len(self.answered)

    def is_open(self, today: date) -> bool:
        """Whether the round takes answers on this UTC day."""
        return self.opens_on <= today <= self.closes_on

    def has_closed(self, today: date) -> bool:
        return today > self.closes_on

    def party_of(self, person_id: UUID) -> Party | None:
        """How the round asks the person (mentee or mentor), or None: not in scope."""
        if person_id in self.mentee_ids:
            return Party.MENTEE
        if person_id in self.mentor_ids:
            return Party.MENTOR
        return None

    def questions(self, survey: list[SurveyQuestion], person_id: UUID) -> list[SurveyQuestion]:
        """The questions the person is asked; NotInScope if the round does not ask them."""
        party = self.check_in_scope(person_id)
        return questions_for(survey, self.stage, party)

    def check_in_scope(self, person_id: UUID) -> Party:
        party = self.party_of(person_id)
        if party is None:
            raise NotInScope()
        return party

    def standing(self, person_id: UUID, today: date) -> Standing:
        """Where the person stands with the round today (having answered comes first)."""
        if person_id in self.answered:
            return Standing.ANSWERED
        if today < self.opens_on:
            return Standing.NOT_OPEN
        if self.has_closed(today):
            return Standing.CLOSED
        return Standing.OPEN

    def check_takes_answers(self, person_id: UUID, today: date) -> None:
        """RoundRefused unless the round is open today and the person has not answered."""
        command = "answer the survey"
        standing = self.standing(person_id, today)
        if standing == Standing.NOT_OPEN:
            raise RoundRefused(command, f"the round opens on {self.opens_on.isoformat()}")
        if standing == Standing.CLOSED:
            raise RoundRefused(command, f"the round closed on {self.closes_on.isoformat()}")
        if standing == Standing.ANSWERED:
            raise RoundRefused(command, "you have already answered")

    def answer(
        self,
        person_id: UUID,
        answers: dict[str, Any],
        survey: list[SurveyQuestion],
        today: date,
        actor: Actor,
    ) -> None:
        """Record a person's answers: once, while the round is open, whatever the
        state of their pairing. Raises NotInScope, RoundRefused, or InvalidValue for
        an answer to no question of the stage and their audience, or of the wrong kind."""
        party = self.check_in_scope(person_id)
        self.check_takes_answers(person_id, today)
        check_answers(answers, survey, self.stage, party)
        self._answered(person_id=person_id, respondent=party.value, answers=answers, actor=actor)

    @event(Answered)
    def _answered(
        self, person_id: UUID, respondent: str, answers: dict[str, Any], actor: Actor
    ) -> None:
        self.answered[person_id] = respondent


def check_dates(opens_on: date, closes_on: date, today: date) -> None:
    """Raises InvalidValue for a round closing before it opens, opening before today
    (UTC) or more than LONGEST_ROUND_DAYS ahead, or longer than LONGEST_ROUND_DAYS."""
    if closes_on < opens_on:
        raise InvalidValue("closes_on must not be before opens_on")
    if opens_on < today:
        raise InvalidValue("opens_on must not be in the past")
    if (closes_on - opens_on).days > LONGEST_ROUND_DAYS:
        raise InvalidValue(f"a round lasts at most {LONGEST_ROUND_DAYS} days")
    if (opens_on - today).days > LONGEST_ROUND_DAYS:
        raise InvalidValue(f"opens_on must be within {LONGEST_ROUND_DAYS} days of today")
