"""ISO 8601 durations for scheme timers (`P28D`, `PT10S`, `P2W`, `P1DT12H`).

Years and months are refused: their length depends on the calendar, and a timer
must mean the same number of seconds wherever it starts. No duration is longer
than LONGEST_DURATION: longer timers are mistakes, and far longer ones overflow
date arithmetic.
"""

import re
from datetime import timedelta

from domain.errors import InvalidValue

LONGEST_DURATION = timedelta(days=36500)

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


_CALENDAR = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?P<rest>(?:\d+[WD])*(?:T.*)?)$"
)
DAYS_IN_YEAR = 365.2425


def parse_retention(text: str) -> timedelta:
    """A retention period: an ISO 8601 duration that may also count years and months
    (`P6Y`, `P18M`, `P1Y6M`), a year taken as 365.2425 days and a month as a twelfth
    of that, rounded to whole days; or any duration parse_duration accepts. Raises
    InvalidValue likewise."""
    match = _CALENDAR.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None or not (match["years"] or match["months"]):
        return parse_duration(text)
    years = int(match["years"] or 0) + int(match["months"] or 0) / 12
    rest = parse_duration("P" + match["rest"]) if match["rest"] else timedelta(0)
    duration = timedelta(days=round(years * DAYS_IN_YEAR)) + rest
    if duration <= timedelta(0) or duration > LONGEST_DURATION:
        raise InvalidValue(f"{text!r} must be longer than zero and at most 100 years")
    return duration


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds.

    Raises InvalidValue for anything else, for a zero duration, and for one longer
    than LONGEST_DURATION.
    """
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise InvalidValue(
            f"{text!r} is not an ISO 8601 duration such as P28D or PT10S "
            "(years and months are not accepted)"
        )
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    try:
        duration = timedelta(**parts)
    except OverflowError:
        duration = timedelta.max
    if duration <= timedelta(0):
        raise InvalidValue(f"{text!r} must be longer than zero")
    if duration > LONGEST_DURATION:
        raise InvalidValue(f"{text!r} is longer than {LONGEST_DURATION.days} days")
    return duration
