"""CSV answers, safe to open in a spreadsheet: the one place every export is
rendered (reports with `Accept: text/csv`)."""

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from fastapi.responses import Response

# A cell a spreadsheet would read as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_response(rows: Sequence[dict[str, Any]]) -> Response:
    """Rows of JSON-ready values (projections.reading.fetch_rows) as `text/csv`: a
    header of every key in the order first seen, then one line per row (a missing
    key or None is an empty cell). Every cell, the header's too, goes through
    `cell`."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell(column) for column in columns])
    for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def cell(value: object) -> str | int | float | None:
    """One JSON-ready value as a CSV cell: numbers and None as they are, booleans as
    `true`/`false`, objects and lists as JSON, and any other value as text, which
    when it starts with `=`, `+`, `-`, `@`, a tab or a carriage return is put behind
    a single quote, so that a spreadsheet shows it rather than runs it as a formula
    (the OWASP rule).

    Only text is neutralised: a number is written as it is (`-0.5` is data the
    service computed, not a formula, and must stay a number to whoever opens it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, int | float):
        return value
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
