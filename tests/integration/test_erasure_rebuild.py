"""Erasure, then a rebuild of every projection from the events, on real PostgreSQL
over the real API: the evaluation and equity counts are the same as before the
erasure, and a `pg_dump` still holds none of the person's seeded values.

A rebuild reads the erased mentee's registration without its demographics (their
key is gone): the anonymous record written with the erasure (domain.equity_record)
keeps them in their equity groups. Their pair's survey answers are not under a key
(domain.privacy PSEUDONYMOUS_FIELDS), so the evaluation still counts them.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.registry import PROJECTIONS
from services import bootstrap
from tests.e2e.client import Api
from tests.e2e.conftest import serving
from tests.integration.test_erasure import (
    DEMOGRAPHICS,
    EMAIL,
    NAME,
    OBJECTIVE,
    REASON,
    dump,
    found_in,
    full_history,
    reports,
    wait_for_projections,
)
from tests.support.mentoring import rows
from tests.support.settings import settings_for

pytestmark = pytest.mark.postgres

LINKED = "SELECT count(*) FROM reporting.equity_mentees WHERE mentee_id = %s"
ANONYMOUS = "SELECT scheme_id::text, demographics FROM reporting.equity_anonymous"


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="module")
def api(postgres_server: str, var_dir: Path) -> Iterator[Api]:
    with serving(
        postgres_server,
        MENTORING_VAR_DIR=str(var_dir),
        MENTORING_AUTH_FAILURES_PER_MINUTE="1000",
    ) as api:
        yield api


def survey_answers(evaluation: dict[str, object]) -> int:
    """How many survey answers the evaluation report counts (its survey metrics'
    denominators), to show that the erased pair's answers are among them."""
    total = 0

    def walk(value: object) -> None:
        nonlocal total
        if isinstance(value, dict):
            if str(value.get("metric", "")).startswith("survey"):
                denominator = value.get("denominator")
                total += int(denominator) if isinstance(denominator, int | float) else 0
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(evaluation)
    return total


def test_the_counts_are_the_same_after_an_erasure_and_a_rebuild_of_every_projection(
    api: Api, var_dir: Path
) -> None:
    scheme = api.scheme(cohorts=[{"name": "2026", "eligible_count": 10}])
    mentee, relationship_id = full_history(api, scheme["id"], var_dir)
    mentee_id = mentee["id"]
    database_url = api.runtime.database_url
    api.ok(api.admin.post(f"/v1/relationships/{relationship_id}/end", json={"kind": "no_blame"}))
    wait_for_projections(api)
    before = reports(api, scheme["id"])
    shown = {
        (row["field"], row["group"], row["metric"], row["numerator"])
        for row in before["equity"]
        if not row["suppressed"]
    }
    # The erased mentee is the sixth of their groups, and the one who requested.
    assert ("ethnicity", DEMOGRAPHICS["ethnicity"], "mentees", 6) in shown
    answered = survey_answers(before["evaluation"])
    assert answered >= 1, before["evaluation"]

    api.ok(api.admin.post(f"/v1/people/{mentee_id}/erase", json={"reason": REASON}))
    wait_for_projections(api)
    assert reports(api, scheme["id"]) == before
    # The anonymous record holds the demographics, with neither their id nor a pair's.
    anonymous = rows(database_url, ANONYMOUS)
    assert anonymous == [(scheme["id"], DEMOGRAPHICS)]
    record_ids = rows(database_url, "SELECT record_id FROM reporting.equity_anonymous")
    assert str(record_ids[0][0]) != mentee_id
    assert rows(database_url, LINKED, mentee_id) == [(0,)]
    verified = api.ok(api.admin.get("/v1/reports/audit/verify"))
    assert verified["ok"]

    settings = settings_for(database_url)
    for name in PROJECTIONS:
        bootstrap.rebuild(settings, name)
    wait_for_projections(api)

    assert reports(api, scheme["id"]) == before
    assert rows(database_url, ANONYMOUS) == anonymous
    assert rows(database_url, LINKED, mentee_id) == [(0,)]
    assert api.ok(api.admin.get("/v1/reports/audit/verify")) == verified
    shown_after = api.ok(api.admin.get(f"/v1/mentees/{mentee_id}"))
    assert (shown_after["name"], shown_after["email"]) == ("erased", "erased")
    everything = dump(database_url)
    for value in (NAME, EMAIL, OBJECTIVE, "Quillfeather", "Zephyrine", "xenotransplant"):
        assert not found_in(everything, value), value
    # Without MENTORING_CIPHER_KEY the only readable demographics in the dump are
    # in the equity table, never beside the person's id.
    for line in everything.splitlines():
        if mentee_id in line:
            assert DEMOGRAPHICS["ethnicity"] not in line, line


def test_a_mentor_erased_leaves_no_anonymous_record(api: Api) -> None:
    scheme = api.scheme()
    mentor = api.mentor(scheme["id"])
    records = rows(api.runtime.database_url, "SELECT count(*) FROM reporting.equity_anonymous")
    api.ok(api.admin.post(f"/v1/people/{mentor['id']}/erase", json={"reason": REASON}))
    wait_for_projections(api)
    assert rows(api.runtime.database_url, "SELECT count(*) FROM reporting.equity_anonymous") == (
        records
    )
