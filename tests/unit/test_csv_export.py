"""CSV answers: a cell a spreadsheet would run as a formula is shown as text, and
numbers stay numbers."""

import csv
import io

import pytest

from services.api.csv_export import FORMULA_STARTS, cell, csv_response

FORMULAS = ["=cmd|' /C calc'!A0", "+44 20 7946 0000", "-2+3", "@SUM(A1:A9)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_is_put_behind_a_quote(text: str) -> None:
    assert cell(text) == "'" + text


def test_every_formula_start_of_the_owasp_rule_is_covered() -> None:
    assert {text[0] for text in FORMULAS} == set(FORMULA_STARTS)


@pytest.mark.parametrize("text", ["cardiology", "", "a=b", "'=already quoted", "2026-01-01"])
def test_other_text_is_written_as_it_is(text: str) -> None:
    assert cell(text) == text


@pytest.mark.parametrize("number", [-0.5, -3, 0, 1.25])
def test_numbers_are_data_not_formulas(number: float) -> None:
    assert cell(number) == number


def test_booleans_none_and_json_values() -> None:
    assert (cell(True), cell(False), cell(None)) == ("true", "false", None)
    assert cell({"b": 1, "a": "=x"}) == '{"a": "=x", "b": 1}'
    assert cell(["-x"]) == '["-x"]'


def test_a_csv_answer_neutralises_every_cell_and_keeps_its_columns() -> None:
    rows = [
        {"specialty": "=cmd|' /C calc'!A0", "value": -0.5},
        {"specialty": "renal", "-extra": "@x"},
    ]
    response = csv_response(rows)
    assert response.media_type == "text/csv; charset=utf-8"
    read = list(csv.reader(io.StringIO(bytes(response.body).decode())))
    assert read == [
        ["specialty", "value", "'-extra"],
        ["'=cmd|' /C calc'!A0", "-0.5", ""],
        ["renal", "", "'@x"],
    ]
