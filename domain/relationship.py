"""One mentor-mentee pairing, from request to ending or rematch.

Commands are public methods that check the state and raise a DomainError naming
the command and the state; the private `@event` methods only mutate. The events are
declared classes (their topics, `domain.relationship:Relationship.<Name>`, are what
the event store holds). Every event carries its `actor`. Meetings record date, mode
and duration, never what was said.
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import bounds
from domain.actors import Actor
from domain.copying import CopiedForCommands
from domain.durations import parse_duration
from domain.errors import InvalidValue, NotEligible, TransitionRefused
from domain.privacy import ERASED, Classified
from domain.scheme import SurveyQuestion, questions_for
from domain.timers import STALL_STATES
from domain.vocabulary import (
    OPEN_STATES,
    PAIRED_STATES,
    DeclineReason,
    EndKind,
    FeedbackStage,
    MeetingMode,
    Party,
    PauseReason,
    StallReason,
    State,
)

# Stalls that a match resolves; a meeting resolves every stall.
CLEARED_BY_MATCH = frozenset({StallReason.UNMATCHED, StallReason.MENTOR_NO_RESPONSE})

MAX_MEETING_MINUTES = 24 * 60


def planned_end_after(first_meeting_at: datetime, planned_duration: str) -> datetime:
    """The planned end a first meeting fixes: the scheme's `planned_duration` after
    the meeting was recorded. Raises InvalidValue for a duration that does not parse."""
    return first_meeting_at + parse_duration(planned_duration)


class Relationship(CopiedForCommands, Aggregate):
    """The lifecycle aggregate. `stalled`, `escalated`, `paused`, `midpoint_due`
    and `end_due` are flags orthogonal to `state`. `requested_since` is when the
    request last began waiting for a mentor (made, or back to requested);
    `lapsed_invitation_sent_at` when the last invitation that lapsed was sent."""

    class Event(Aggregate.Event, Classified):
        """Every event of a relationship."""

    class Requested(Aggregate.Created, Event):
        scheme_id: UUID
        mentee_id: UUID
        preferred_mentor_ids: list[UUID]
        rematch_of: UUID | None
        actor: Actor

    class MentorInvited(Event):
        """The rationale quotes what the mentee wrote that matched: personal."""

        mentor_id: UUID
        rationale: dict[str, Any] | None
        actor: Actor

        PERSONAL_FIELDS = frozenset({"rationale"})

    class Matched(Event):
        """A mentor matched without an invitation (the scheme needs no acceptance).
        The rationale is personal, as the invitation's."""

        mentor_id: UUID
        rationale: dict[str, Any] | None
        actor: Actor

        PERSONAL_FIELDS = frozenset({"rationale"})

    class InvitationAccepted(Event):
        actor: Actor

    class InvitationDeclined(Event):
        """Why, if the mentor chose to say, is sealed: the mentee never sees it.
        Version 1 (the previous release) recorded no reason."""

        reason_category: str | None
        actor: Actor

        SEALED_FIELDS = frozenset({"reason_category"})

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason_category"] = None

    class InvitationLapsed(Event):
        actor: Actor

    class InvitationWithdrawn(Event):
        reason: str
        actor: Actor

    class MeetingLogged(Event):
        """`planned_end` is set on the first meeting, which fixes it, and None on the
        others. Version 1 (the previous release) recorded the scheme's
        `planned_duration` instead."""

        held_on: date
        mode: str
        duration_minutes: int
        planned_end: datetime | None
        actor: Actor

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            planned_duration = state.pop("planned_duration")
            state["planned_end"] = (
                None
                if planned_duration is None
                else planned_end_after(state["timestamp"], planned_duration)
            )

    class AgreementRecorded(Event):
        meeting_frequency: str
        ground_rules_agreed: bool
        confidentiality_agreed: bool
        actor: Actor

    class StallFlagged(Event):
        reason: str
        actor: Actor

    class StallCleared(Event):
        reason: str
        actor: Actor

    class Escalated(Event):
        actor: Actor

    class Paused(Event):
        reason_category: str
        until: date | None
        actor: Actor

        PERSONAL_FIELDS = frozenset({"reason_category"})

    class Resumed(Event):
        actor: Actor

    class Extended(Event):
        """A new planned end. Version 1 (the previous release) named it `until`."""

        planned_end: datetime
        actor: Actor

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["planned_end"] = state.pop("until")

    class MidpointDue(Event):
        actor: Actor

    class EndOfSchemeDue(Event):
        actor: Actor

    class Ended(Event):
        """Who ended it and why are sealed (DESIGN.md: the no-blame clause)."""

        kind: str
        reason_category: str | None
        actor: Actor

        SEALED_FIELDS = frozenset({"actor", "reason_category"})

    class Rematched(Event):
        new_relationship_id: UUID
        actor: Actor

    class PairingChecked(Event):
        """A party's private answer to "Is this pairing working for you?", asked
        after the first meeting. The answer is sealed: the other party never sees
        it; a "no" tells the scheme's coordinators (a notice) that a no-blame
        rematch may be wanted."""

        party: str
        working: bool
        actor: Actor

        SEALED_FIELDS = frozenset({"working"})

    class RematchAsked(Event):
        """The mentee of a pairing that has ended asks the coordinator for a new
        mentor (the coordinator rematches)."""

        actor: Actor

    class FeedbackGiven(Event):
        stage: str
        respondent: str
        answers: dict[str, Any]
        actor: Actor

        PSEUDONYMOUS_FIELDS = frozenset({"answers"})

    class PartyErased(Event):
        """The mentor or the mentee of the pair was erased: recorded in the same write
        as their `Erased`, once the keys of the pair are destroyed. Every process
        that holds the relationship in memory, with the match rationale and pause
        reason it read while the keys were there, meets this event when it next
        reads the relationship, and forgets them. Holds no personal data."""

        party: str
        actor: Actor

    @event(Requested)
    def __init__(
        self,
        scheme_id: UUID,
        mentee_id: UUID,
        preferred_mentor_ids: list[UUID],
        rematch_of: UUID | None,
        actor: Actor,
    ) -> None:
        self.scheme_id = scheme_id
        self.mentee_id = mentee_id
        self.preferred_mentor_ids = preferred_mentor_ids
        self.rematch_of = rematch_of
        self.state = State.REQUESTED
        self.mentor_id: UUID | None = None
        self.declined_mentor_ids: list[UUID] = []
        self.rationale: dict[str, Any] | None = None
        self.requested_since: datetime = self.created_on
        self.invited_at: datetime | None = None
        self.lapsed_invitation_sent_at: datetime | None = None
        self.matched_at: datetime | None = None
        self.first_meeting_at: datetime | None = None
        self.first_meeting_on: date | None = None
        self.last_meeting_at: datetime | None = None
        self.last_meeting_on: date | None = None
        self.meetings_count = 0
        self.agreement: dict[str, Any] | None = None
        self.stalled = False
        self.stall_reason: StallReason | None = None
        self.stalled_since: datetime | None = None
        self.escalated = False
        self.paused = False
        self.pause_reason: str | None = None
        self.paused_until: date | None = None
        self.paused_since: datetime | None = None
        self.planned_end: datetime | None = None
        self.midpoint_due = False
        self.end_due = False
        self.ended_at: datetime | None = None
        self.end_kind: EndKind | None = None
        self.rematched_to: UUID | None = None
        self.feedback_given: list[str] = []
        self.pairing_checked_by: list[str] = []
        self.rematch_asked = False

    @property
    def requested_at(self) -> datetime:
        return self.created_on

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def _require(self, command: str, states: frozenset[State] | set[State]) -> None:
        if self.state not in states:
            raise TransitionRefused(command, self.state)

    # Matching -----------------------------------------------------------------

    def invite(
        self,
        mentor_id: UUID,
        require_acceptance: bool,
        rationale: dict[str, Any] | None,
        actor: Actor,
    ) -> None:
        """Invite a mentor, or match directly when the scheme needs no acceptance.
        The caller has checked the mentor's eligibility (domain.matching)."""
        self._require("invite a mentor", {State.REQUESTED})
        if mentor_id in self.declined_mentor_ids:
            raise NotEligible(
                "declined_this_request", "this mentor has already declined this request"
            )
        if require_acceptance:
            self._mentor_invited(mentor_id=mentor_id, rationale=rationale, actor=actor)
        else:
            self._matched(mentor_id=mentor_id, rationale=rationale, actor=actor)
            self._clear_stall_if(CLEARED_BY_MATCH, actor)

    @event(MentorInvited)
    def _mentor_invited(
        self,
        mentor_id: UUID,
        rationale: dict[str, Any] | None,
        actor: Actor,
        timestamp: datetime | None = None,
    ) -> None:
        self.state = State.MENTOR_INVITED
        self.mentor_id = mentor_id
        self.rationale = rationale or None  # {} once erased (services.keys)
        self.invited_at = timestamp

    @event(Matched)
    def _matched(
        self,
        mentor_id: UUID,
        rationale: dict[str, Any] | None,
        actor: Actor,
        timestamp: datetime | None = None,
    ) -> None:
        self.state = State.MATCHED
        self.mentor_id = mentor_id
        self.rationale = rationale or None  # {} once erased (services.keys)
        self.matched_at = timestamp

    def accept(self, actor: Actor) -> None:
        self._require("accept an invitation", {State.MENTOR_INVITED})
        self._invitation_accepted(actor=actor)
        self._clear_stall_if(CLEARED_BY_MATCH, actor)

    @event(InvitationAccepted)
    def _invitation_accepted(self, actor: Actor, timestamp: datetime | None = None) -> None:
        self.state = State.MATCHED
        self.matched_at = timestamp

    def decline(self, actor: Actor, reason_category: str | None = None) -> None:
        """No reason is needed; a category, if given, is sealed."""
        self._require("decline an invitation", {State.MENTOR_INVITED})
        reason = None if reason_category is None else DeclineReason(reason_category).value
        self._invitation_declined(reason_category=reason, actor=actor)

    @event(InvitationDeclined)
    def _invitation_declined(
        self, reason_category: str | None, actor: Actor, timestamp: datetime | None = None
    ) -> None:
        self._back_to_requested(timestamp)

    def lapse_invitation(self, actor: Actor) -> None:
        """The mentor did not answer in time: back to requested."""
        self._require("lapse an invitation", {State.MENTOR_INVITED})
        self._invitation_lapsed(actor=actor)

    @event(InvitationLapsed)
    def _invitation_lapsed(self, actor: Actor, timestamp: datetime | None = None) -> None:
        self.lapsed_invitation_sent_at = self.invited_at
        self._back_to_requested(timestamp)

    def withdraw_invitation(self, reason: str, actor: Actor) -> None:
        """The invitation can no longer be accepted (the mentor's last place went to
        another mentee first): back to requested. The mentor may be invited again."""
        self._require("withdraw an invitation", {State.MENTOR_INVITED})
        self._invitation_withdrawn(reason=reason, actor=actor)

    @event(InvitationWithdrawn)
    def _invitation_withdrawn(
        self, reason: str, actor: Actor, timestamp: datetime | None = None
    ) -> None:
        self._back_to_requested(timestamp, excluding_mentor=False)

    def _back_to_requested(self, at: datetime | None, excluding_mentor: bool = True) -> None:
        """Waiting for a mentor again, since `at`; a mentor who declined or did not
        answer is not invited to this request again."""
        assert self.mentor_id is not None and at is not None
        if excluding_mentor:
            self.declined_mentor_ids.append(self.mentor_id)
        self.state = State.REQUESTED
        self.requested_since = at
        self.mentor_id = None
        self.rationale = None
        self.invited_at = None

    # Meeting ------------------------------------------------------------------

    def log_meeting(
        self,
        held_on: date,
        mode: str,
        duration_minutes: int,
        planned_duration: str,
        today: date,
        actor: Actor,
    ) -> None:
        """Record that a meeting happened (never its content). The first makes the
        relationship active and records the planned end it fixes; any meeting clears a
        stall."""
        self._require("log a meeting", PAIRED_STATES)
        MeetingMode(mode)
        if not 1 <= duration_minutes <= MAX_MEETING_MINUTES:
            raise InvalidValue(f"duration_minutes must be 1 to {MAX_MEETING_MINUTES}")
        if held_on > today:
            raise InvalidValue(f"held_on {held_on} is in the future")
        assert self.matched_at is not None
        if held_on < self.matched_at.date():
            raise InvalidValue(
                f"held_on {held_on} is before the pair was matched on {self.matched_at.date()}"
            )
        # The planned end counts from when the first meeting is recorded.
        recorded_at = self.MeetingLogged.create_timestamp()
        planned_end = planned_end_after(recorded_at, planned_duration)
        self._meeting_logged(
            held_on=held_on,
            mode=mode,
            duration_minutes=duration_minutes,
            planned_end=planned_end if self.state == State.MATCHED else None,
            actor=actor,
            timestamp=recorded_at,
        )
        self._clear_stall_if(frozenset(StallReason), actor)

    @event(MeetingLogged)
    def _meeting_logged(
        self,
        held_on: date,
        mode: str,
        duration_minutes: int,
        planned_end: datetime | None,
        actor: Actor,
        timestamp: datetime | None = None,
    ) -> None:
        assert timestamp is not None
        if planned_end is not None:
            self.state = State.ACTIVE
            self.first_meeting_at = timestamp
            self.first_meeting_on = held_on
            self.planned_end = planned_end
        self.meetings_count += 1
        self.last_meeting_at = timestamp
        if self.last_meeting_on is None or held_on > self.last_meeting_on:
            self.last_meeting_on = held_on

    def record_agreement(
        self,
        meeting_frequency: str,
        ground_rules_agreed: bool,
        confidentiality_agreed: bool,
        actor: Actor,
    ) -> None:
        """The mentoring contract: how often to meet, ground rules, confidentiality."""
        self._require("record an agreement", PAIRED_STATES)
        if not meeting_frequency.strip():
            raise InvalidValue("meeting_frequency must not be blank")
        self._agreement_recorded(
            meeting_frequency=meeting_frequency,
            ground_rules_agreed=ground_rules_agreed,
            confidentiality_agreed=confidentiality_agreed,
            actor=actor,
        )

    @event(AgreementRecorded)
    def _agreement_recorded(
        self,
        meeting_frequency: str,
        ground_rules_agreed: bool,
        confidentiality_agreed: bool,
        actor: Actor,
        timestamp: datetime | None = None,
    ) -> None:
        self.agreement = {
            "meeting_frequency": meeting_frequency,
            "ground_rules_agreed": ground_rules_agreed,
            "confidentiality_agreed": confidentiality_agreed,
            "recorded_at": timestamp,
        }

    # Stalls -------------------------------------------------------------------

    def flag_stalled(self, reason: str, actor: Actor) -> None:
        """Raises TransitionRefused when already stalled, paused, or the reason does
        not fit the state (a matched pair cannot be `meeting_overdue`)."""
        stall = StallReason(reason)
        self._require(f"flag stalled ({stall})", STALL_STATES[stall])
        if self.stalled:
            raise TransitionRefused(f"flag stalled ({stall})", self.state, "already stalled")
        if self.paused:
            raise TransitionRefused(f"flag stalled ({stall})", self.state, "paused")
        self._stall_flagged(reason=stall.value, actor=actor)

    @event(StallFlagged)
    def _stall_flagged(self, reason: str, actor: Actor, timestamp: datetime | None = None) -> None:
        self.stalled = True
        self.stall_reason = StallReason(reason)
        self.stalled_since = timestamp

    def _clear_stall_if(self, reasons: frozenset[StallReason], actor: Actor) -> None:
        if self.stalled and self.stall_reason in reasons:
            self._stall_cleared(reason=str(self.stall_reason), actor=actor)

    @event(StallCleared)
    def _stall_cleared(self, reason: str, actor: Actor) -> None:
        self.stalled = False
        self.stall_reason = None
        self.stalled_since = None
        self.escalated = False

    def escalate(self, actor: Actor) -> None:
        """Escalate a stall to the scheme coordinator."""
        self._require("escalate", OPEN_STATES)
        if not self.stalled:
            raise TransitionRefused("escalate", self.state, "not stalled")
        if self.escalated:
            raise TransitionRefused("escalate", self.state, "already escalated")
        self._escalated(actor=actor)

    @event(Escalated)
    def _escalated(self, actor: Actor) -> None:
        self.escalated = True

    # Pause, extension, check-ins -----------------------------------------------

    def pause(self, reason_category: str, until: date | None, today: date, actor: Actor) -> None:
        """Pause for leave: every running timer stops until resumed. `until`, when
        given, is within domain.bounds.check_pause_until of `today` (InvalidValue)."""
        self._require("pause", OPEN_STATES)
        if self.paused:
            raise TransitionRefused("pause", self.state, "already paused")
        PauseReason(reason_category)
        if until is not None:
            bounds.check_pause_until(until, today)
        self._paused(reason_category=reason_category, until=until, actor=actor)

    @event(Paused)
    def _paused(
        self,
        reason_category: str,
        until: date | None,
        actor: Actor,
        timestamp: datetime | None = None,
    ) -> None:
        self.paused = True
        self.pause_reason = None if reason_category == ERASED else reason_category
        self.paused_until = until
        self.paused_since = timestamp

    def resume(self, actor: Actor) -> None:
        self._require("resume", OPEN_STATES)
        if not self.paused:
            raise TransitionRefused("resume", self.state, "not paused")
        self._resumed(actor=actor)

    @event(Resumed)
    def _resumed(self, actor: Actor) -> None:
        self.paused = False
        self.pause_reason = None
        self.paused_until = None
        self.paused_since = None

    def extend(self, until: datetime, actor: Actor) -> None:
        """A new planned end, by mutual agreement: later than the current one, and
        within domain.bounds.check_planned_end of the first meeting (InvalidValue)."""
        self._require("extend", {State.ACTIVE})
        assert self.planned_end is not None and self.first_meeting_at is not None
        if until <= self.planned_end:
            raise InvalidValue(
                f"until {until.isoformat()} is not after the planned end "
                f"{self.planned_end.isoformat()}"
            )
        bounds.check_planned_end(until, self.first_meeting_at)
        self._extended(planned_end=until, actor=actor)

    @event(Extended)
    def _extended(self, planned_end: datetime, actor: Actor) -> None:
        self.planned_end = planned_end
        self.end_due = False

    def mark_midpoint_due(self, actor: Actor) -> None:
        self._require("mark the midpoint check-in due", {State.ACTIVE})
        if self.midpoint_due:
            raise TransitionRefused("mark the midpoint check-in due", self.state, "already due")
        self._midpoint_due(actor=actor)

    @event(MidpointDue)
    def _midpoint_due(self, actor: Actor) -> None:
        self.midpoint_due = True

    def mark_end_due(self, actor: Actor) -> None:
        self._require("mark end-of-scheme feedback due", {State.ACTIVE})
        if self.end_due:
            raise TransitionRefused("mark end-of-scheme feedback due", self.state, "already due")
        self._end_due(actor=actor)

    @event(EndOfSchemeDue)
    def _end_due(self, actor: Actor) -> None:
        self.end_due = True

    # Ending and rematch -------------------------------------------------------

    def end(self, kind: str, reason_category: str | None, actor: Actor) -> None:
        """End the relationship. Either party may end it at any point, without blame;
        who ended it and why are sealed (`Ended.SEALED_FIELDS`)."""
        end_kind = EndKind(kind)
        self._require(f"end ({end_kind})", OPEN_STATES)
        if end_kind == EndKind.COMPLETED and self.state != State.ACTIVE:
            raise TransitionRefused("complete", self.state, "only an active pair can complete")
        self._ended(kind=end_kind.value, reason_category=reason_category, actor=actor)

    @event(Ended)
    def _ended(
        self,
        kind: str,
        reason_category: str | None,
        actor: Actor,
        timestamp: datetime | None = None,
    ) -> None:
        self.state = State.ENDED
        self.end_kind = EndKind(kind)
        self.ended_at = timestamp
        self.stalled = False
        self.stall_reason = None
        self.stalled_since = None
        self.escalated = False
        self.paused = False

    def rematch(self, new_relationship_id: UUID, actor: Actor) -> None:
        """Mark this pairing as replaced by a new request (`rematch_of` points back)."""
        self._require("rematch", {State.ENDED})
        self._rematched(new_relationship_id=new_relationship_id, actor=actor)

    @event(Rematched)
    def _rematched(self, new_relationship_id: UUID, actor: Actor) -> None:
        self.state = State.REMATCHED
        self.rematched_to = new_relationship_id

    def ask_for_rematch(self, actor: Actor) -> None:
        """The mentee asks for a new mentor once the pairing has ended; once."""
        self._require("ask for a new mentor", {State.ENDED})
        if self.rematch_asked:
            raise TransitionRefused("ask for a new mentor", self.state, "already asked")
        self._rematch_asked(actor=actor)

    @event(RematchAsked)
    def _rematch_asked(self, actor: Actor) -> None:
        self.rematch_asked = True

    # Erasure ------------------------------------------------------------------

    def record_party_erased(self, party: str, actor: Actor) -> None:
        """Record that the mentor or the mentee was erased (services.erasure): the
        rationale and pause reason, now unreadable in the events, are dropped. Only
        once the relationship is over: an open one's parties cannot be erased."""
        erased = Party(party)
        if self.is_open:
            raise TransitionRefused(f"erase the {erased}", self.state)
        self._party_erased(party=erased.value, actor=actor)

    @event(PartyErased)
    def _party_erased(self, party: str, actor: Actor) -> None:
        self.rationale = None
        self.pause_reason = None

    # Feedback -----------------------------------------------------------------

    def check_pairing(self, party: str, working: bool, actor: Actor) -> None:
        """A party's answer to "Is this pairing working for you?": once each, after
        the first meeting, while the pair is active."""
        answering = Party(party)
        command = "answer whether the pairing is working"
        self._require(command, {State.ACTIVE})
        if answering in self.pairing_checked_by:
            raise TransitionRefused(command, self.state, f"the {answering} has already answered")
        self._pairing_checked(party=answering.value, working=working, actor=actor)

    @event(PairingChecked)
    def _pairing_checked(self, party: str, working: bool, actor: Actor) -> None:
        self.pairing_checked_by.append(party)

    def give_feedback(
        self,
        stage: str,
        respondent: str,
        answers: dict[str, Any],
        survey: list[SurveyQuestion],
        actor: Actor,
    ) -> None:
        """Survey answers, once per stage and respondent. Each answer must be to a
        question of the scheme's survey for that stage and audience, of its kind."""
        feedback_stage, party = FeedbackStage(stage), Party(respondent)
        command = f"give {feedback_stage} feedback"
        if feedback_stage == FeedbackStage.BASELINE:
            self._require(command, OPEN_STATES)
        elif feedback_stage == FeedbackStage.MIDPOINT:
            self._require(command, {State.ACTIVE, State.ENDED, State.REMATCHED})
        else:
            self._require(command, {State.ACTIVE, State.ENDED, State.REMATCHED})
            if self.state == State.ACTIVE and not self.end_due:
                raise TransitionRefused(command, self.state, "end-of-scheme feedback is not due")
        if party == Party.MENTOR and self.mentor_id is None:
            raise TransitionRefused(command, self.state, "there is no mentor")
        if f"{feedback_stage}:{party}" in self.feedback_given:
            raise TransitionRefused(command, self.state, f"the {party} has already answered")
        check_answers(answers, survey, feedback_stage, party)
        self._feedback_given(
            stage=feedback_stage.value, respondent=party.value, answers=answers, actor=actor
        )

    @event(FeedbackGiven)
    def _feedback_given(
        self, stage: str, respondent: str, answers: dict[str, Any], actor: Actor
    ) -> None:
        self.feedback_given.append(f"{stage}:{respondent}")


def check_answers(
    answers: dict[str, Any], survey: list[SurveyQuestion], stage: str, party: Party
) -> None:
    """Raises InvalidValue for an answer to no such question, or of the wrong kind.
    The one check of survey answers: a pair's feedback and a survey round's."""
    if not answers:
        raise InvalidValue("answers must not be empty")
    questions = {q["id"]: q for q in questions_for(survey, stage, party)}
    for question_id, value in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise InvalidValue(f"no {party} question {question_id!r} at the {stage} stage")
        if question["kind"] == "yes_no":
            valid = isinstance(value, bool)
        else:
            valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
        if not valid:
            expected = "true or false" if question["kind"] == "yes_no" else "a whole number 1-5"
            raise InvalidValue(f"answer to {question_id!r} must be {expected}")
