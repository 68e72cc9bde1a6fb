"""Charts for the report pages, drawn on the server as SVG: horizontal bars, one row
each, with what the bar is and its value written above it and, where it has one,
its target as a dashed line across it, so no chart relies on colour alone. A
second series (the previous cohort) is hatched, not only of another colour, and
named in a legend.

Each chart is an image (`role="img"`) named by its `<title>` and described by its
`<desc>`; the page gives the same numbers as a table. Only presentation
attributes are used (the pages' Content-Security-Policy forbids inline style);
the chart takes its column's width (no larger than css/reports.css allows).
"""

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 360
FONT_SIZE = 14
LINE = 20  # the height of a line of text
# Text longer than this goes on to the next line: it would overrun the chart.
CHARACTERS_PER_LINE = 44
BAR_HEIGHT = 18
ROW_GAP = 10
TARGET_OVERHANG = 4
INK = "#212b32"
TRACK = "#e8edee"
BLUE = "#005eb8"
FONT = "Frutiger W01, Arial, sans-serif"


@dataclass(frozen=True)
class Bar:
    """One bar: what it is (`label`), its `value` on the chart's scale (None: no
    value, drawn as its text only), the value as written (`text`), its `target` on
    the same scale with the target as written (`target_text`), and its `series`
    (0: solid, 1: hatched)."""

    label: str
    value: float | None
    text: str
    target: float | None = None
    target_text: str = ""
    series: int = 0

    @property
    def caption(self) -> str:
        target = f"; target {self.target_text}" if self.target is not None else ""
        return f"{self.label}: {self.text}{target}"


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    scale: float,
    series_names: Sequence[str] = (),
) -> Markup:
    """The bars as an inline SVG image named `title`. A bar's length is its value
    over `scale` (clamped to the chart), so `scale` is the value of a full-width
    bar. `series_names` names the series in a legend above the bars when there is
    more than one. `chart_id` must be unique on the page (it prefixes the ids of
    the title, description and hatching). Raises ValueError for a scale not above
    zero."""
    if scale <= 0:
        raise ValueError("a chart's scale must be above zero")
    parts: list[str] = []
    y = TARGET_OVERHANG
    legend = _legend(chart_id, series_names, any(bar.target is not None for bar in bars), y)
    parts.extend(legend)
    y += LINE * len(legend) + (ROW_GAP if legend else 0)
    for bar in bars:
        for line in textwrap.wrap(bar.caption, CHARACTERS_PER_LINE):
            parts.append(_text(0, y + FONT_SIZE, line))
            y += LINE
        parts.append(_bar(chart_id, bar, y, scale))
        y += BAR_HEIGHT + ROW_GAP
    height = max(y, LINE)
    return Markup(
        f'<svg class="app-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{FONT}" '
        f'font-size="{FONT_SIZE}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        f"{_hatching(chart_id)}{''.join(parts)}</svg>"
    )


def _fill(chart_id: str, series: int) -> str:
    return BLUE if series == 0 else f"url(#{chart_id}-hatch)"


def _hatching(chart_id: str) -> str:
    return (
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{BLUE}" stroke-width="3"/>'
        "</pattern></defs>"
    )


def _text(x: float, y: float, words: str) -> str:
    return f'<text x="{x}" y="{y}" fill="{INK}">{escape(words)}</text>'


def _bar(chart_id: str, bar: Bar, y: float, scale: float) -> str:
    track = f'<rect x="0" y="{y}" width="{WIDTH}" height="{BAR_HEIGHT}" fill="{TRACK}"/>'
    shape = ""
    if bar.value is not None:
        length = _x(bar.value, scale)
        shape = (
            f'<rect class="app-chart__bar" x="0" y="{y}" width="{length}" '
            f'height="{BAR_HEIGHT}" fill="{_fill(chart_id, bar.series)}" '
            f'stroke="{BLUE}" stroke-width="1"/>'
        )
    target = ""
    if bar.target is not None:
        x = _x(bar.target, scale)
        # A white edge under the dashed line keeps it seen across a dark bar.
        target = (
            f'<line x1="{x}" y1="{y - TARGET_OVERHANG}" x2="{x}" '
            f'y2="{y + BAR_HEIGHT + TARGET_OVERHANG}" stroke="#ffffff" stroke-width="6"/>'
            f'<line class="app-chart__target" x1="{x}" y1="{y - TARGET_OVERHANG}" x2="{x}" '
            f'y2="{y + BAR_HEIGHT + TARGET_OVERHANG}" stroke="{INK}" stroke-width="3" '
            'stroke-dasharray="4 3"/>'
        )
    return track + shape + target


def _x(value: float, scale: float) -> float:
    """Where `value` falls on a chart of `scale`, within the chart."""
    return round(min(max(value / scale, 0.0), 1.0) * WIDTH, 1)


def _legend(chart_id: str, series_names: Sequence[str], has_targets: bool, y: float) -> list[str]:
    """The legend's lines from `y` down: a swatch per series when there are two or
    more, and the target's mark when a bar has one."""
    lines: list[str] = []
    if len(series_names) > 1:
        for series, name in enumerate(series_names):
            top = y + LINE * len(lines)
            swatch = (
                f'<rect x="0" y="{top}" width="28" height="{FONT_SIZE}" '
                f'fill="{_fill(chart_id, series)}" stroke="{BLUE}" stroke-width="1"/>'
            )
            lines.append(f"<g>{swatch}{_text(36, top + FONT_SIZE - 2, name)}</g>")
    if has_targets:
        top = y + LINE * len(lines)
        mark = (
            f'<line x1="14" y1="{top - 2}" x2="14" y2="{top + FONT_SIZE + 2}" stroke="{INK}" '
            'stroke-width="3" stroke-dasharray="4 3"/>'
        )
        lines.append(f"<g>{mark}{_text(36, top + FONT_SIZE - 2, 'Dashed line: the target')}</g>")
    return lines
