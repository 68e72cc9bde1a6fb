"""A whole test run must not cross midnight UTC. The tests fix today's date when they
are imported (`TODAY` in tests/unit/scenario.py and others), and the application
takes it again in every command, so after midnight a meeting "held today" falls
before a match made a moment ago, and "tomorrow" is no longer in the future."""

from datetime import UTC, datetime, time, timedelta

# Longer than a whole run takes on the machines measured (9 to 20 minutes).
MARGIN = timedelta(minutes=30)


def wait_for_midnight(now: datetime, margin: timedelta = MARGIN) -> float:
    """Seconds a whole run starting at `now` (UTC) waits, so that it starts after
    midnight UTC: none when midnight is more than `margin` away."""
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    left = midnight - now
    return left.total_seconds() + 1 if left <= margin else 0.0
