"""A coordinator imports the scheme's mentors and mentees from CSV over HTTP, on a
real PostgreSQL: all or nothing, people matched by email, a file imported twice
changing nothing, and only the scheme's own staff allowed."""

from itertools import count
from typing import Any

import httpx

from tests.e2e.client import Api

MENTORS = "name,email,grade,specialty,institution,interests,capacity,trained_on\n"
MENTEES = "cohort,name,email,grade,specialty,specialty_decided,institution,objectives\n"
CSV = {"Content-Type": "text/csv"}
_numbers = count()


def unique() -> int:
    return next(_numbers)


def good_mentors(n: int) -> str:
    return MENTORS + (
        f"Dr Ada Shah,ada{n}@example.nhs.uk,consultant,cardiology,Leeds,teaching;research,2,\n"
        f"Dr Ben Ito,ben{n}@example.nhs.uk,ST6,surgery,York,,1,2025-06-01\n"
    )


def post_import(
    client: httpx.Client, scheme_id: str, text: str, kind: str = "mentors", dry_run: bool = False
) -> httpx.Response:
    return client.post(
        f"/v1/schemes/{scheme_id}/import",
        params={"kind": kind, "dry_run": str(dry_run).lower()},
        content=text.encode(),
        headers=CSV,
    )


def mentors_of(api: Api, scheme_id: str) -> list[dict[str, Any]]:
    return api.ok_list(api.admin.get("/v1/mentors", params={"scheme_id": scheme_id}))


def test_a_good_file_registers_everyone_and_the_same_file_again_changes_nothing(
    api: Api,
) -> None:
    scheme = api.scheme()["id"]
    coordinator = api.as_(api.token("coordinator", scheme_ids=[scheme]))
    text = good_mentors(unique())

    dry = api.ok(post_import(coordinator, scheme, text, dry_run=True))
    assert dry == {"created": 2, "updated": 0, "unchanged": 0, "errors": []}
    assert mentors_of(api, scheme) == []

    first = api.ok(post_import(coordinator, scheme, text))
    assert first == {"created": 2, "updated": 0, "unchanged": 0, "errors": []}
    listed = {m["name"]: m for m in mentors_of(api, scheme)}
    assert listed["Dr Ada Shah"]["interests"] == ["teaching", "research"]
    assert listed["Dr Ada Shah"]["capacity"] == 2
    assert listed["Dr Ben Ito"]["trained_on"] == "2025-06-01"

    events = api.count_events()
    again = api.ok(post_import(coordinator, scheme, text))
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "errors": []}
    assert api.count_events() == events


def test_a_known_email_updates_that_mentor_and_a_new_one_registers(api: Api) -> None:
    scheme = api.scheme()["id"]
    n = unique()
    api.ok(post_import(api.admin, scheme, good_mentors(n)))
    changed = MENTORS + (
        f"Dr Ada Shah,ADA{n}@example.nhs.uk,consultant,cardiology,Leeds,teaching;research,4,\n"
        f"Dr Ben Ito,ben{n}@example.nhs.uk,ST6,surgery,York,,1,2025-06-01\n"
        f"Dr Cy Obi,cy{n}@example.nhs.uk,ST4,GP,Hull,,,\n"
    )
    answer = api.ok(post_import(api.admin, scheme, changed))
    assert answer == {"created": 1, "updated": 1, "unchanged": 1, "errors": []}
    listed = {m["name"]: m for m in mentors_of(api, scheme)}
    assert listed["Dr Ada Shah"]["capacity"] == 4
    assert len(listed) == 3


def test_a_file_with_bad_rows_is_refused_with_every_error_and_nothing_is_saved(
    api: Api,
) -> None:
    scheme = api.scheme()["id"]
    n = unique()
    api.ok(post_import(api.admin, scheme, good_mentors(n)))
    events = api.count_events()
    bad = MENTORS + (
        f"Dr New,new{n}@example.nhs.uk,ST3,GP,Leeds,,1,\n"
        f"Dr Bad,not-an-email,ST3,GP,Leeds,,lots,\n"
        f"Dr Ada Shah,ada{n}@example.nhs.uk,consultant,dermatology,Leeds,,5,\n"
        f"Dr Twice,new{n}@example.nhs.uk,ST3,GP,Leeds,,1,\n"
    )
    response = post_import(api.admin, scheme, bad)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert errors == {(3, "email"), (3, "capacity"), (5, "email")}
    assert "nothing was saved" in response.json()["detail"]
    assert api.count_events() == events

    # Once the file is right, a value the import cannot change is the only error.
    fixed = bad.replace("not-an-email", f"bad{n}@example.nhs.uk").replace(",lots,", ",1,")
    fixed = fixed.replace(f"Dr Twice,new{n}", f"Dr Twice,twice{n}")
    response = post_import(api.admin, scheme, fixed)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["row"], error["column"]) == (4, "specialty")
    assert api.count_events() == events
    assert len(mentors_of(api, scheme)) == 2


def test_mentees_are_imported_into_the_schemes_cohorts(api: Api) -> None:
    scheme = api.scheme()["id"]
    n = unique()
    text = MENTEES + (
        f"2026,Dr Dee Roy,dee{n}@example.nhs.uk,FY2,GP,yes,Hull,pass MRCGP;balance\n"
        f"2030,Dr Eli Fox,eli{n}@example.nhs.uk,FY1,GP,no,Hull,\n"
    )
    response = post_import(api.admin, scheme, text, kind="mentees")
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["row"], error["column"]) == (3, "cohort")

    text = text.replace("2030,", "2026,")
    assert api.ok(post_import(api.admin, scheme, text, kind="mentees"))["created"] == 2
    again = api.ok(post_import(api.admin, scheme, text, kind="mentees"))
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "errors": []}


def test_a_file_that_cannot_be_read_is_refused_clearly(api: Api) -> None:
    scheme = api.scheme()["id"]
    cases = {
        "not utf-8": ("Dr Zo\xeb".encode("latin-1"), 422),
        "no header": (b"", 422),
        "unknown column": (b"name,email,grade,specialty,institution,shoe_size\n", 422),
    }
    for label, (data, status) in cases.items():
        response = api.admin.post(
            f"/v1/schemes/{scheme}/import", params={"kind": "mentors"}, content=data, headers=CSV
        )
        assert response.status_code == status, (label, response.text)
        assert response.json()["errors"], label
    too_big = good_mentors(unique()) + "x" * 20_000
    response = post_import(api.admin, scheme, too_big)
    assert response.status_code == 413, response.text
    response = api.admin.post(
        f"/v1/schemes/{scheme}/import", params={"kind": "mentors"}, json={"name": "x"}
    )
    assert response.status_code == 415, response.text
    response = post_import(api.admin, scheme, good_mentors(unique()), kind="people")
    assert response.status_code == 422, response.text


def test_only_admins_and_the_schemes_own_coordinators_may_import(api: Api) -> None:
    scheme = api.scheme()["id"]
    other = api.scheme()["id"]
    text = good_mentors(unique())
    elsewhere = api.as_(api.token("coordinator", scheme_ids=[other]))
    mentor = api.mentor(scheme, email=f"m{unique()}@example.nhs.uk")
    refused = {
        "coordinator of another scheme": (elsewhere, 403),
        "reporter": (api.as_(api.token("reporter")), 403),
        "auditor": (api.as_(api.token("auditor")), 403),
        "mentor": (api.as_(api.token("mentor", subject_id=mentor["id"])), 403),
        "no token": (httpx.Client(base_url=api.base_url), 401),
    }
    events = api.count_events()
    for label, (client, status) in refused.items():
        response = post_import(client, scheme, text)
        assert response.status_code == status, (label, response.text)
    assert api.count_events() == events
    missing = post_import(api.admin, "00000000-0000-4000-8000-000000000000", text)
    assert missing.status_code == 404, missing.text
