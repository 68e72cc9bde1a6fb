"""The service's side of OpenID Connect (services.web.oidc.Provider) against a real
provider, without the pages: an expired ID token is refused, and a provider that
cannot be reached is a refusal, not an error."""

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from services.config import OidcSettings
from services.web.oidc import Provider, SignInRefused
from tests.e2e.conftest import free_port
from tests.support.oidc_provider import Provider as RunningProvider
from tests.support.oidc_provider import running_provider

SERVICE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def expiring_provider() -> Iterator[RunningProvider]:
    """A provider whose tokens expired two minutes before they were issued: beyond
    the minute's leeway for clocks that differ."""
    with running_provider(access_token_max_age=timedelta(minutes=-2)) as provider:
        yield provider


def test_an_expired_id_token_is_refused(expiring_provider: RunningProvider) -> None:
    expiring_provider.set_user("late", email="late@example.nhs.uk", email_verified=True)
    service = Provider(OidcSettings(expiring_provider.issuer, "client", "secret"), SERVICE)

    async def sign_in() -> None:
        url = await service.authorization_url("state", "nonce", "v" * 64)
        callback = await asyncio.to_thread(expiring_provider.sign_in, url, "late")
        token = await service.exchange(httpx.URL(callback).params["code"], "v" * 64)
        await service.verified_claims(token["id_token"], "nonce", token["access_token"])

    with pytest.raises(SignInRefused, match=r"failed verification \(expired_token exp\)"):
        asyncio.run(sign_in())


def test_a_provider_that_cannot_be_reached_is_a_refusal() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    service = Provider(OidcSettings(nowhere, "client", "secret"), SERVICE)

    with pytest.raises(SignInRefused, match="discovery could not be fetched") as refused:
        asyncio.run(service.metadata())
    assert refused.value.status_code == 502
