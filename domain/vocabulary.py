"""The named values of the domain. Stored in events as their plain string values."""

from enum import StrEnum


class State(StrEnum):
    REQUESTED = "requested"
    MENTOR_INVITED = "mentor_invited"
    MATCHED = "matched"
    ACTIVE = "active"
    ENDED = "ended"
    REMATCHED = "rematched"


OPEN_STATES = frozenset({State.REQUESTED, State.MENTOR_INVITED, State.MATCHED, State.ACTIVE})
PAIRED_STATES = frozenset({State.MATCHED, State.ACTIVE})


class StallReason(StrEnum):
    UNMATCHED = "unmatched"
    MENTOR_NO_RESPONSE = "mentor_no_response"
    NO_FIRST_MEETING = "no_first_meeting"
    MEETING_OVERDUE = "meeting_overdue"


class EndKind(StrEnum):
    NO_BLAME = "no_blame"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class MeetingMode(StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"
    EMAIL = "email"
    OTHER = "other"


class PauseReason(StrEnum):
    PARENTAL_LEAVE = "parental_leave"
    TIME_OUT_OF_TRAINING = "time_out_of_training"
    SICKNESS = "sickness"
    OTHER = "other"


class DeclineReason(StrEnum):
    """Why a mentor declined, if they choose to say: sealed, never shown to the mentee."""

    NO_TIME = "no_time"
    NOT_A_GOOD_FIT = "not_a_good_fit"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    OTHER = "other"


class MatchingModel(StrEnum):
    ASSIGNED = "assigned"
    MENTEE_CHOICE = "mentee_choice"
    HYBRID = "hybrid"


class FeedbackStage(StrEnum):
    BASELINE = "baseline"
    MIDPOINT = "midpoint"
    END = "end"


class Party(StrEnum):
    MENTEE = "mentee"
    MENTOR = "mentor"


class SchemeRole(StrEnum):
    LEAD = "lead"
    COORDINATOR = "coordinator"
    EVALUATOR = "evaluator"
    DATA_GUARDIAN = "data_guardian"


class QuestionKind(StrEnum):
    """How a survey question is answered: 1 to 5, or yes or no."""

    LIKERT5 = "likert5"
    YES_NO = "yes_no"


class Comparison(StrEnum):
    """How an objective's actual value is held against its target."""

    AT_LEAST = ">="
    ABOVE = ">"
    AT_MOST = "<="
    BELOW = "<"
    EQUAL = "="
