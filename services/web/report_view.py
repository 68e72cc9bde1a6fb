"""What the reports page shows of an evaluation and of the equity report, in plain
words: each measure of a cohort beside the previous cohort's and the target the
scheme's SMART objectives set for it, as a chart (services.web.charts) and the same
numbers as table rows. It reads the reports' rows (services.reports) and holds no
rule of its own: which counts are suppressed is the equity report's to say.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from projections.equity import SMALLEST_SHOWN
from services.web.charts import Bar, bar_chart

Row = Mapping[str, Any]

RATES: dict[str, str] = {
    "uptake_rate": "Signed up, of those eligible",
    "match_rate": "Matched, of those who asked for a mentor",
    "met_mentor_rate": "Met their mentor, of those signed up",
    "specialty_decided_rate": "Decided on a specialty, of those signed up",
    "mentor_acceptance_rate": "Invitations mentors accepted",
    "no_blame_end_rate": "Pairings ended without blame",
    "rematch_rate": "Rematched, of pairings ended early",
}
DAYS: dict[str, str] = {
    "median_days_to_match": "Median days from asking to a match",
    "median_days_to_first_meeting": "Median days from a match to the first meeting",
    "median_days_to_rematch": "Median days from an ending to a new match",
}
EQUITY_MEASURES: dict[str, str] = {
    "mentees": "Share of the scheme's mentees",
    "request_rate": "Asked for a mentor",
    "match_rate": "Matched, of those who asked",
    "met_mentor_rate": "Met their mentor",
    "no_blame_end_mentee_rate": "Had a pairing end without blame",
}
COMPARISONS: dict[str, str] = {
    ">=": "at least",
    "at_least": "at least",
    "gte": "at least",
    ">": "more than",
    "gt": "more than",
    "<=": "at most",
    "at_most": "at most",
    "lte": "at most",
    "<": "less than",
    "lt": "less than",
    "=": "exactly",
    "==": "exactly",
    "eq": "exactly",
}
NOT_SHOWN = f"Not shown (fewer than {SMALLEST_SHOWN} people, or to protect a group that has)"


@dataclass(frozen=True)
class Measure:
    """One line of a table: what is measured, in this cohort and the previous one,
    and the target with whether it is met ("" where there is none)."""

    label: str
    this: str
    previous: str
    target: str = ""
    met: str = ""


@dataclass(frozen=True)
class Section:
    """A chart and the table of its numbers."""

    chart: Markup
    measures: list[Measure]


@dataclass(frozen=True)
class Cohorts:
    """The names of the cohort shown and of the one before it (None if none)."""

    this: str
    previous: str | None


def percent(value: float | None) -> str:
    return "no value yet" if value is None else f"{value:.0%}"


def rate_text(row: Row | None) -> str:
    """A rate as written: "75% (3 of 4)"."""
    if row is None or row["value"] is None:
        return "nothing to count yet"
    return f"{percent(row['value'])} ({_number(row['numerator'])} of {_number(row['denominator'])})"


def days_text(row: Row | None) -> str:
    """A median number of days as written, with how many it is the median of."""
    if row is None or row["value"] is None:
        return "none yet"
    return f"{row['value']:.1f} days (of {_number(row['denominator'])})"


def met_text(met: bool | None) -> str:
    return {True: "Met", False: "Not met", None: "Not known yet"}[met]


def _number(value: Any) -> str:
    return f"{float(value):g}" if value is not None else "0"


def objectives_for(objectives: Iterable[Row], metric: str, stage: str | None = None) -> Row | None:
    """The objective that holds `metric` (at `stage`, for a survey question) to a
    target, if the scheme has one."""
    for objective in objectives:
        named, _, at = str(objective["metric"]).partition("@")
        if named == metric and (not at or at == stage):
            return objective
    return None


def target_text(objective: Row, as_text: Any) -> str:
    comparison = COMPARISONS.get(str(objective["comparison"]), str(objective["comparison"]))
    return f"{comparison} {as_text(objective['target'])}"


def _by_metric(metrics: Iterable[Row]) -> dict[tuple[str, str | None, str | None], Row]:
    return {(m["metric"], m["stage"], m["audience"]): m for m in metrics}


def _section(
    chart_id: str,
    title: str,
    cohorts: Cohorts,
    lines: Sequence[tuple[str, Row | None, Row | None, Row | None]],
    as_text: Any,
    value_text: Any,
    scale: float,
) -> Section:
    """Bars and table lines for measures given as (label, this cohort's row, the
    previous cohort's row, the objective)."""
    bars: list[Bar] = []
    measures: list[Measure] = []
    for label, this, previous, objective in lines:
        target = None if objective is None else objective["target"]
        target_words = "" if objective is None else target_text(objective, as_text)
        bars.append(
            Bar(
                f"{label} ({cohorts.this})",
                None if this is None else this["value"],
                value_text(this),
                target=target,
                target_text=target_words,
            )
        )
        if cohorts.previous is not None:
            bars.append(
                Bar(
                    f"{label} ({cohorts.previous})",
                    None if previous is None else previous["value"],
                    value_text(previous),
                    series=1,
                )
            )
        measures.append(
            Measure(
                label,
                value_text(this),
                value_text(previous) if cohorts.previous is not None else "",
                target_words,
                "" if objective is None else met_text(objective["met"]),
            )
        )
    names = [cohorts.this] + ([cohorts.previous] if cohorts.previous else [])
    description = "; ".join(bar.caption for bar in bars) or "Nothing to show yet."
    return Section(bar_chart(chart_id, title, description, bars, scale, names), measures)


def rates(cohorts: Cohorts, this: Row, previous: Row | None) -> Section:
    """The rates of the cohort beside the previous one's, with their targets."""
    mine, theirs = _by_metric(this["metrics"]), _by_metric(previous["metrics"] if previous else [])
    lines = [
        (
            label,
            mine.get((metric, None, None)),
            theirs.get((metric, None, None)),
            objectives_for(this["objectives"], metric),
        )
        for metric, label in RATES.items()
    ]
    return _section("rates", "Rates against targets", cohorts, lines, percent, rate_text, 1.0)


def days(cohorts: Cohorts, this: Row, previous: Row | None) -> Section:
    """The median days to a match and to a first meeting, with their targets."""
    mine, theirs = _by_metric(this["metrics"]), _by_metric(previous["metrics"] if previous else [])
    lines = [
        (
            label,
            mine.get((metric, None, None)),
            theirs.get((metric, None, None)),
            objectives_for(this["objectives"], metric),
        )
        for metric, label in DAYS.items()
    ]
    values = [row["value"] for _, *rows, _ in lines for row in rows if row and row["value"]]
    targets = [o["target"] for *_, o in lines if o is not None and o["target"]]
    scale = max([*values, *targets, 1.0]) * 1.1
    return _section(
        "days",
        "Time to match and to the first meeting",
        cohorts,
        lines,
        lambda target: f"{target:g} days",
        days_text,
        scale,
    )


def survey(cohorts: Cohorts, this: Row, previous: Row | None, questions: Iterable[Row]) -> Section:
    """The share of positive answers to each question at each stage."""
    texts = {str(q["id"]): str(q["text"]) for q in questions}
    theirs = _by_metric(previous["metrics"] if previous else [])
    lines = []
    for row in this["metrics"]:
        metric = str(row["metric"])
        if not metric.startswith("survey:"):
            continue
        question = metric.removeprefix("survey:")
        label = f"{texts.get(question, question)} ({row['audience']}s, {row['stage']})"
        key = (metric, row["stage"], row["audience"])
        objective = objectives_for(this["objectives"], metric, row["stage"])
        lines.append((label, row, theirs.get(key), objective))
    return _section(
        "survey", "Survey results: positive answers", cohorts, lines, percent, rate_text, 1.0
    )


@dataclass(frozen=True)
class MetSplit:
    """One survey question of the cohort shown, split by whether the respondent had
    met their mentor when they answered: each side's positive answers as written."""

    label: str
    met: str
    not_met: str


def survey_by_met(this: Row, questions: Iterable[Row]) -> list[MetSplit]:
    """The survey questions of the cohort shown (its `survey_by_met_mentor` rows),
    each split into those who met their mentor and those who did not."""
    texts = {str(q["id"]): str(q["text"]) for q in questions}
    sides: dict[tuple[str, str, str], dict[bool, Row]] = {}
    for row in this.get("survey_by_met_mentor", []):
        key = (str(row["metric"]), str(row["stage"]), str(row["audience"]))
        sides.setdefault(key, {})[bool(row["met_mentor"])] = row
    lines = []
    for (metric, stage, audience), side in sides.items():
        question = metric.removeprefix("survey:")
        label = f"{texts.get(question, question)} ({audience}s, {stage})"
        lines.append(MetSplit(label, rate_text(side.get(True)), rate_text(side.get(False))))
    return lines


@dataclass(frozen=True)
class EquityLine:
    group: str
    measure: str
    shown: str


def equity(rows: Iterable[Row]) -> dict[str, list[EquityLine]]:
    """The equity report by demographic field: each group's measures, a suppressed
    count as NOT_SHOWN rather than a number."""
    fields: dict[str, list[EquityLine]] = {}
    for row in rows:
        shown = NOT_SHOWN if row["suppressed"] else rate_text(row)
        measure = EQUITY_MEASURES.get(str(row["metric"]), str(row["metric"]))
        fields.setdefault(str(row["field"]), []).append(
            EquityLine(str(row["group"]), measure, shown)
        )
    return fields


def objective_value_text(objective: Row, value: float | None) -> str:
    """An objective's target or actual as written: a percentage for a rate or a
    survey result, days for a median of days, else the number."""
    if value is None:
        return "no value yet"
    metric = str(objective["metric"])
    if metric in RATES or metric.startswith(("survey:", "meetings_mode:")):
        return percent(value)
    if metric in DAYS:
        return f"{value:g} days"
    return f"{value:g}"


@dataclass(frozen=True)
class Objective:
    """A SMART objective as written: what it says, the measure it holds to a
    target, the target, the cohort's actual value and whether it is met."""

    description: str
    metric: str
    target: str
    actual: str
    met: str


def objectives(rows: Iterable[Row]) -> list[Objective]:
    """The scheme's objectives, as the cohort's evaluation gives them."""
    return [
        Objective(
            str(o["description"]),
            str(o["metric"]),
            target_text(o, lambda target, o=o: objective_value_text(o, target)),
            objective_value_text(o, o["actual"]),
            met_text(o["met"]),
        )
        for o in rows
    ]
