"""Several API processes on one database (`mentoring up --workers N`) act as one: what
one process records, the other sees at once. Each test runs two runtimes on one
database, as two worker processes would (services.serving): the first built as
`up` and `api` build theirs, the second as each worker does."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.actors import Actor
from domain.scheme import Scheme
from services import bootstrap
from services.api.app import create_app
from services.erasure import erase_person
from services.people_import import one_import_at_a_time
from services.runtime import Runtime
from services.web.identity import Identity
from services.web.oidc_pending import PendingSignIns
from tests.support.mentoring import mentee_profile, scheme_settings
from tests.support.settings import settings_for

pytestmark = pytest.mark.postgres

ADMIN_TOKEN = "mtk_two-processes-admin"
ADMIN = Actor("admin", "admin-1")
FAILURES_PER_MINUTE = 3


@dataclass(frozen=True)
class Process:
    runtime: Runtime
    client: TestClient


@pytest.fixture
def processes(database_url: str) -> Iterator[tuple[Process, Process]]:
    settings = settings_for(
        database_url,
        MENTORING_ADMIN_TOKEN=ADMIN_TOKEN,
        MENTORING_AUTH_FAILURES_PER_MINUTE=str(FAILURES_PER_MINUTE),
    )
    first = bootstrap.build_runtime(settings)
    second = bootstrap.build_worker_runtime(settings)
    try:
        with TestClient(create_app(first)) as one, TestClient(create_app(second)) as other:
            yield Process(first, one), Process(second, other)
    finally:
        second.close()
        first.close()


def as_admin(**headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}", **headers}


def test_tokens_refused_by_one_process_throttle_the_address_on_the_other(
    processes: tuple[Process, Process],
) -> None:
    one, other = processes
    for _ in range(FAILURES_PER_MINUTE):
        refused = one.client.get("/v1/tokens", headers={"Authorization": "Bearer mtk_guess"})
        assert refused.status_code == 401
    # Another guess there is not looked up (it would be 401).
    guess = {"Authorization": "Bearer mtk_guess-again"}
    throttled = other.client.get("/v1/tokens", headers=guess)
    assert throttled.status_code == 429, throttled.text
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert one.client.get("/v1/tokens", headers=guess).status_code == 429


def test_sign_in_links_asked_for_on_one_process_count_on_the_other(
    processes: tuple[Process, Process],
) -> None:
    one, other = processes
    email, address = "ada@example.nhs.uk", "192.0.2.7"
    for _ in range(3):  # the limit per email
        assert other.runtime.sign_in_requests.retry_after(address, email) is None
        one.runtime.sign_in_requests.record(address, email)
    assert other.runtime.sign_in_requests.retry_after(address, email) is not None
    assert other.runtime.sign_in_requests.retry_after("198.51.100.1", "ADA@example.nhs.uk")
    # Per address: ten links a minute, whatever the emails.
    for n in range(10):
        other.runtime.sign_in_requests.record("203.0.113.9", f"person{n}@example.nhs.uk")
    assert one.runtime.sign_in_requests.retry_after("203.0.113.9", "new@example.nhs.uk")
    assert one.runtime.sign_in_requests.retry_after("203.0.113.10", "new@example.nhs.uk") is None


def test_a_single_sign_on_begun_on_one_process_finishes_on_the_other_once(
    processes: tuple[Process, Process],
) -> None:
    one, other = processes
    begun = PendingSignIns(one.runtime.pool).begin("/schemes")
    finished = PendingSignIns(other.runtime.pool).finish(begun.state)
    assert finished is not None and finished.nonce == begun.nonce
    assert PendingSignIns(one.runtime.pool).finish(begun.state) is None


def test_sessions_and_sign_in_links_of_one_process_work_on_the_other(
    processes: tuple[Process, Process],
) -> None:
    one, other = processes
    secret = one.runtime.sessions.start(Identity("bootstrap"))
    resumed = other.runtime.sessions.resume(secret)
    assert resumed is not None and resumed.identity == Identity("bootstrap")
    other.runtime.sessions.end(secret)
    assert one.runtime.sessions.resume(secret) is None

    url = one.runtime.bootstrap_sign_in_url()
    token = url.split("token=", 1)[1]
    assert other.runtime.sign_in_links.spend(token) is not None
    assert one.runtime.sign_in_links.spend(token) is None


def test_a_request_repeated_with_its_idempotency_key_on_the_other_process_is_answered_again(
    processes: tuple[Process, Process],
) -> None:
    one, other = processes
    body: dict[str, Any] = scheme_settings(name="Once only")
    headers = as_admin(**{"Idempotency-Key": "scheme-once"})
    first = one.client.post("/v1/schemes", json=body, headers=headers)
    again = other.client.post("/v1/schemes", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    created = [str(scheme_id) for _, scheme_id in other.runtime.mentoring.ids_of(Scheme)]
    assert created == [first.json()["id"]]


def test_a_change_made_on_one_process_is_read_on_the_other(
    processes: tuple[Process, Process],
) -> None:
    one, other = processes
    scheme = one.client.post("/v1/schemes", json=scheme_settings(), headers=as_admin()).json()
    # Read on the other first, so that it holds the scheme in its aggregate cache.
    assert other.client.get(f"/v1/schemes/{scheme['id']}", headers=as_admin()).status_code == 200
    changed = one.client.patch(
        f"/v1/schemes/{scheme['id']}", json={"name": "Renamed"}, headers=as_admin()
    )
    assert changed.status_code == 200, changed.text
    read = other.client.get(f"/v1/schemes/{scheme['id']}", headers=as_admin()).json()
    assert read["name"] == "Renamed"


def test_a_person_erased_by_one_process_is_not_found_by_email_on_the_other(
    processes: tuple[Process, Process],
) -> None:
    one, other = processes
    mentoring = one.runtime.mentoring
    scheme_id = mentoring.create_scheme(
        scheme_settings(cohorts=[{"name": "2026", "eligible_count": 10}]), ADMIN
    ).aggregate.id
    email = "ben.okafor@example.nhs.uk"

    def register() -> UUID:
        return mentoring.register_mentee(
            mentee_profile(scheme_id, "2026", email=email), ADMIN
        ).aggregate.id

    earlier, later = register(), register()
    assert other.runtime.people_by_email.find(email.upper()) == ("mentee", later)
    erase_person(mentoring, one.runtime.pool, later, "subject request SR-1", ADMIN)
    assert other.runtime.people_by_email.find(email) == ("mentee", earlier)
    erase_person(mentoring, one.runtime.pool, earlier, "subject request SR-2", ADMIN)
    assert other.runtime.people_by_email.find(email) is None
    assert one.runtime.people_by_email.find(email) is None


def test_an_import_on_one_process_waits_for_one_under_way_on_the_other(
    processes: tuple[Process, Process],
) -> None:
    """So that two imports of one file cannot both register a person neither has seen."""
    one, other = processes
    holding, release, entered = threading.Event(), threading.Event(), threading.Event()

    def first_import() -> None:
        with one_import_at_a_time(one.runtime.pool):
            holding.set()
            release.wait(30)

    def second_import() -> None:
        with one_import_at_a_time(other.runtime.pool):
            entered.set()

    first = threading.Thread(target=first_import)
    first.start()
    assert holding.wait(30)
    second = threading.Thread(target=second_import)
    second.start()
    assert not entered.wait(1.0)
    release.set()
    assert entered.wait(30)
    first.join(30)
    second.join(30)
