"""The audit chain's verification as the governance page words it
(templates/reports/verification.html): intact, broken at an entry, or incomplete
with how many changes are not yet in the trail."""

from typing import Any

import pytest

from services.web.pages import templates


def worded(verification: dict[str, Any]) -> str:
    macro = templates.env.get_template("reports/verification.html").module.verification_result
    return " ".join(str(macro(verification)).split())


def test_an_intact_chain_says_so_with_its_length() -> None:
    text = worded({"ok": True, "rows": 63, "complete": True, "lag": 0, "first_bad_row": None})
    assert "Intact" in text and "all 63 entries" in text


@pytest.mark.parametrize("lag", [0, 2])
def test_a_broken_chain_names_the_first_entry_that_does_not_follow(lag: int) -> None:
    text = worded({"ok": False, "rows": 63, "complete": not lag, "lag": lag, "first_bad_row": 17})
    assert "Broken" in text and "broken at entry 17" in text
    assert ("2 changes are not yet in the audit trail" in text) == bool(lag)


def test_an_incomplete_chain_says_how_many_changes_are_not_yet_in_it() -> None:
    text = worded({"ok": False, "rows": 60, "complete": False, "lag": 1, "first_bad_row": None})
    assert "Incomplete" in text and "1 change is not yet in the audit trail" in text
