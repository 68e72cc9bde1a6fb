"""The admin token `mentoring up` keeps in var/admin-token is made once, readable by
its owner only, and kept across starts."""

import stat
from pathlib import Path

from services.embedded import admin_token_from


def test_the_admin_token_is_made_on_first_start_and_kept(tmp_path: Path) -> None:
    token = admin_token_from(tmp_path)
    path = tmp_path / "admin-token"
    assert token.startswith("mtk_") and len(token) > 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert admin_token_from(tmp_path) == token


def test_a_token_kept_by_an_earlier_release_is_used_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "admin-token").write_text("mtk_issued-by-the-previous-release\n")
    assert admin_token_from(tmp_path) == "mtk_issued-by-the-previous-release"
