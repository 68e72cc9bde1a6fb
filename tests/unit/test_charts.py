"""The report pages' charts (services.web.charts): bars to scale, the target as a
dashed line where the bar's target is, an image named by its title, every value
written out, the previous cohort hatched, and no inline style."""

import xml.etree.ElementTree as ET

import pytest

from services.web.charts import WIDTH, Bar, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def bars_of(svg: ET.Element) -> list[ET.Element]:
    return [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "app-chart__bar"]


def targets_of(svg: ET.Element) -> list[ET.Element]:
    return [line for line in svg.iter(f"{SVG}line") if line.get("class") == "app-chart__target"]


def texts_of(svg: ET.Element) -> list[str]:
    return [text.text or "" for text in svg.iter(f"{SVG}text")]


MATCH = Bar("Matched", 0.75, "75% (3 of 4)", target=0.8, target_text="at least 80%")
MET = Bar("Met their mentor", 0.25, "25% (1 of 4)")


def test_bars_are_as_long_as_their_value_over_the_scale() -> None:
    svg = parsed(bar_chart("rates", "Rates", "Two rates", [MATCH, MET], scale=1.0))
    assert [float(rect.get("width", "")) for rect in bars_of(svg)] == [0.75 * WIDTH, 0.25 * WIDTH]
    halved = parsed(bar_chart("rates", "Rates", "Two rates", [MATCH, MET], scale=2.0))
    assert [float(r.get("width", "")) for r in bars_of(halved)] == [0.375 * WIDTH, 0.125 * WIDTH]


def test_a_value_beyond_the_scale_fills_the_chart_and_no_more() -> None:
    svg = parsed(bar_chart("days", "Days", "", [Bar("Days", 30.0, "30 days")], scale=10.0))
    assert float(bars_of(svg)[0].get("width", "")) == WIDTH


def test_the_target_is_a_dashed_line_across_its_bar_where_the_target_is() -> None:
    svg = parsed(bar_chart("rates", "Rates", "", [MATCH, MET], scale=1.0))
    (target,) = targets_of(svg)
    assert float(target.get("x1", "")) == float(target.get("x2", "")) == 0.8 * WIDTH
    assert target.get("stroke-dasharray")
    bar = bars_of(svg)[0]
    assert float(target.get("y1", "")) < float(bar.get("y", "")) < float(target.get("y2", ""))
    assert "Dashed line: the target" in texts_of(svg)


def test_the_chart_is_an_image_named_by_its_title_and_described() -> None:
    svg = parsed(bar_chart("rates", "Rates against targets", "Matched 75%", [MATCH], 1.0))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "rates-title rates-desc"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "rates-title"
    assert title.text == "Rates against targets"
    assert desc is not None and desc.get("id") == "rates-desc" and desc.text == "Matched 75%"


def test_every_bar_has_its_label_value_and_target_written_out() -> None:
    svg = parsed(bar_chart("rates", "Rates", "", [MATCH, MET], scale=1.0))
    assert "Matched: 75% (3 of 4); target at least 80%" in texts_of(svg)
    assert "Met their mentor: 25% (1 of 4)" in texts_of(svg)


def test_a_long_label_goes_on_to_a_second_line_rather_than_off_the_chart() -> None:
    long = Bar("Met their mentor, of those signed up to the scheme (2025)", 0.5, "50% (2 of 4)")
    lines = texts_of(parsed(bar_chart("rates", "Rates", "", [long], 1.0)))
    assert len(lines) == 2
    assert " ".join(lines) == long.caption


def test_a_bar_without_a_value_is_written_but_not_drawn() -> None:
    svg = parsed(bar_chart("rates", "Rates", "", [Bar("Rematched", None, "nothing yet")], 1.0))
    assert bars_of(svg) == []
    assert "Rematched: nothing yet" in texts_of(svg)


def test_the_previous_cohort_is_hatched_and_named_in_the_legend() -> None:
    previous = Bar("Matched", 0.5, "50% (1 of 2)", series=1)
    svg = parsed(bar_chart("rates", "Rates", "", [MATCH, previous], 1.0, ["2025", "2024"]))
    fills = [rect.get("fill") for rect in bars_of(svg)]
    assert fills == ["#005eb8", "url(#rates-hatch)"]
    assert svg.find(f".//{SVG}pattern[@id='rates-hatch']") is not None
    assert {"2025", "2024"} <= set(texts_of(svg))


def test_no_style_attribute_and_text_escaped() -> None:
    markup = bar_chart("x", "<b>Rates</b>", "a & b", [Bar("<script>", 0.1, "10%")], 1.0)
    assert "style=" not in markup
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    for element in parsed(markup).iter():
        assert "style" not in element.attrib


def test_a_scale_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        bar_chart("x", "Rates", "", [MET], scale=0)
