"""How far apart the dates and times a scheme records may lie: what a mentoring
scheme can mean, declared once and checked by the commands that take them.

A relationship lasts at most ten years from its first meeting (AMS pairs last two
to five); a pause at most five years (time out of training); a governance role is
handed over at most a year ahead; nothing a scheme records happened before 1950.
Every check raises InvalidValue naming the field and the bound it broke, so the
API answers 422 and no stored value can fall outside what the reporting tables,
the views and the exports can hold.
"""

from datetime import date, datetime, timedelta

from domain.errors import InvalidValue

EARLIEST_DATE = date(1950, 1, 1)
LONGEST_RELATIONSHIP = timedelta(days=3653)  # ten years, leap days included
LONGEST_PAUSE = timedelta(days=1827)  # five years, leap days included
ROLE_NOTICE = timedelta(days=366)  # how far ahead a governance role may be handed over


def check_past_date(field: str, value: date, today: date) -> None:
    """A date something happened on (a training course): from EARLIEST_DATE to
    `today`. Raises InvalidValue."""
    if value > today:
        raise InvalidValue(f"{field} {value.isoformat()} is in the future")
    if value < EARLIEST_DATE:
        raise InvalidValue(
            f"{field} {value.isoformat()} is before {EARLIEST_DATE.isoformat()}, "
            "the earliest date a scheme records"
        )


def check_role_from(value: date, today: date) -> None:
    """The first day of a governance role's term: from EARLIEST_DATE to ROLE_NOTICE
    after `today`. Raises InvalidValue."""
    latest = today + ROLE_NOTICE
    if value > latest:
        raise InvalidValue(
            f"from {value.isoformat()} is more than {ROLE_NOTICE.days} days ahead "
            f"(at most {latest.isoformat()})"
        )
    if value < EARLIEST_DATE:
        raise InvalidValue(
            f"from {value.isoformat()} is before {EARLIEST_DATE.isoformat()}, "
            "the earliest date a scheme records"
        )


def check_pause_until(until: date, today: date) -> None:
    """The day a pause is expected to end: from `today` to LONGEST_PAUSE after it.
    Raises InvalidValue."""
    if until < today:
        raise InvalidValue(f"until {until.isoformat()} is in the past")
    latest = today + LONGEST_PAUSE
    if until > latest:
        raise InvalidValue(
            f"until {until.isoformat()} is more than {LONGEST_PAUSE.days} days ahead "
            f"(a pause lasts at most five years: until {latest.isoformat()} at the latest)"
        )


def check_planned_duration(planned_duration: timedelta) -> None:
    """A scheme's `planned_duration`: a relationship lasts at most
    LONGEST_RELATIONSHIP from its first meeting. Raises InvalidValue."""
    if planned_duration > LONGEST_RELATIONSHIP:
        raise InvalidValue(
            f"planned_duration is longer than {LONGEST_RELATIONSHIP.days} days "
            "(a relationship lasts at most ten years from its first meeting)"
        )


def check_planned_end(until: datetime, first_meeting_at: datetime) -> None:
    """A new planned end (an extension): at most LONGEST_RELATIONSHIP after the
    first meeting. Raises InvalidValue."""
    latest = first_meeting_at + LONGEST_RELATIONSHIP
    if until > latest:
        raise InvalidValue(
            f"until {until.isoformat()} is more than ten years after the first meeting "
            f"(at most {latest.isoformat()})"
        )
