"""Single sign-on is configured by three variables together, or not at all."""

import pytest

from services.config import ConfigError, OidcSettings, Settings

ALL_THREE = {
    "MENTORING_OIDC_ISSUER": "https://login.microsoftonline.com/tenant/v2.0/",
    "MENTORING_OIDC_CLIENT_ID": "client",
    "MENTORING_OIDC_CLIENT_SECRET": "secret",
}


def test_without_the_variables_there_is_no_single_sign_on() -> None:
    assert Settings.from_env({}).oidc is None


def test_the_three_variables_configure_it_and_the_secret_is_not_shown() -> None:
    oidc = Settings.from_env(ALL_THREE).oidc
    assert oidc == OidcSettings("https://login.microsoftonline.com/tenant/v2.0", "client", "secret")
    assert "secret" not in repr(oidc)


@pytest.mark.parametrize("left_out", sorted(ALL_THREE))
def test_a_partial_set_is_a_one_line_error_naming_what_is_missing(left_out: str) -> None:
    partial = {name: value for name, value in ALL_THREE.items() if name != left_out}
    with pytest.raises(ConfigError, match=f"^{left_out} must be set with the others") as raised:
        Settings.from_env(partial)
    assert "\n" not in str(raised.value)


def test_an_issuer_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="MENTORING_OIDC_ISSUER must be an http"):
        Settings.from_env(ALL_THREE | {"MENTORING_OIDC_ISSUER": "login.example"})
