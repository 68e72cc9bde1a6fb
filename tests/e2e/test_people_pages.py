"""The people pages as plain HTML forms, without JavaScript, over a real socket: a
coordinator lists, searches, adds and changes mentors and mentees, and imports a
CSV file (a preview first, nothing imported while any row is wrong); nobody else
opens a scheme's people pages."""

import html
import re
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.web import Site, hidden_fields, serving_pages, signed_in_visitor

_numbers = count()
MENTORS = "name,email,grade,specialty,institution,interests,capacity,trained_on\n"


@pytest.fixture(scope="module")
def site(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    var_dir: Path = tmp_path_factory.mktemp("var")
    with serving_pages(postgres_server, var_dir) as site:
        yield site


def a_coordinator(site: Site, scheme_id: str) -> httpx.Client:
    email = f"coordinator{next(_numbers)}@example.nhs.uk"
    body: dict[str, Any] = {"name": "Dr Coordinator", "email": email, "role": "coordinator"}
    body["scheme_ids"] = [scheme_id]
    site.api.ok(site.api.admin.post("/v1/staff", json=body), 201)
    return signed_in_visitor(site, email)


def text_of(page: str) -> str:
    """The page's words, without its markup."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def post_form(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200, page.text
    token = hidden_fields(page.text)["csrf_token"]
    return client.post(path, data={"csrf_token": token, **data})


def upload(
    client: httpx.Client, scheme_id: str, text: str, kind: str = "mentors"
) -> httpx.Response:
    path = f"/schemes/{scheme_id}/import"
    token = hidden_fields(client.get(path).text)["csrf_token"]
    return client.post(
        path,
        data={"csrf_token": token, "kind": kind},
        files={"file": ("people.csv", text.encode(), "text/csv")},
    )


def confirm(client: httpx.Client, scheme_id: str, preview: httpx.Response) -> httpx.Response:
    fields = hidden_fields(preview.text)
    return client.post(f"/schemes/{scheme_id}/import", files={"x": ("", b"")}, data=fields)


def mentor_names(site: Site, scheme_id: str) -> set[str]:
    listed: list[dict[str, Any]] = site.api.ok_list(
        site.api.admin.get("/v1/mentors", params={"scheme_id": scheme_id})
    )
    return {m["name"] for m in listed}


def test_a_coordinator_adds_a_mentor_and_a_form_with_errors_is_shown_again(site: Site) -> None:
    scheme = site.api.scheme()["id"]
    client = a_coordinator(site, scheme)
    path = f"/schemes/{scheme}/mentors/new"
    fields = {
        "name": "Dr Ada Shah",
        "email": "not an email",
        "grade": "consultant",
        "specialty": "cardiology",
        "institution": "Leeds",
        "interests": "research; teaching",
        "capacity": "lots",
        "trained_on": "",
    }
    refused = post_form(client, path, fields)
    assert refused.status_code == 422, refused.text
    assert "nhsuk-error-summary" in refused.text
    assert 'href="#email"' in refused.text and 'href="#capacity"' in refused.text
    assert 'id="capacity-error"' in refused.text
    assert 'value="Dr Ada Shah"' in refused.text
    assert mentor_names(site, scheme) == set()

    added = post_form(client, path, fields | {"email": "ada.shah@example.nhs.uk", "capacity": "2"})
    assert added.status_code == 303, added.text
    page = client.get(added.headers["location"])
    assert page.status_code == 200
    assert "research, teaching" in text_of(page.text)
    assert mentor_names(site, scheme) == {"Dr Ada Shah"}

    # Changing capacity and availability, as PATCH /v1/mentors does.
    mentor_path = added.headers["location"].split("?")[0]
    changed = post_form(client, mentor_path, {"capacity": "3", "available": "no", "trained_on": ""})
    assert changed.status_code == 303, changed.text
    after = text_of(client.get(mentor_path).text)
    assert "0 of 3" in after and "Available No" in after
    wrong = post_form(client, mentor_path, {"capacity": "99", "available": "yes", "trained_on": ""})
    assert wrong.status_code == 422
    assert 'href="#capacity"' in wrong.text


def test_the_mentor_list_searches_and_filters(site: Site) -> None:
    scheme = site.api.scheme()["id"]
    n = next(_numbers)
    site.api.mentor(scheme, name="Dr Ada Shah", email=f"ada{n}@example.nhs.uk")
    site.api.mentor(scheme, name="Dr Ben Ito", email=f"ben{n}@example.nhs.uk", specialty="surgery")
    full = site.api.mentor(scheme, name="Dr Cy Obi", email=f"cy{n}@example.nhs.uk", capacity=0)
    client = a_coordinator(site, scheme)
    path = f"/schemes/{scheme}/mentors"

    def names(**query: str) -> set[str]:
        page = client.get(path, params=query)
        assert page.status_code == 200, page.text
        return {name for name in ("Dr Ada Shah", "Dr Ben Ito", "Dr Cy Obi") if name in page.text}

    assert names() == {"Dr Ada Shah", "Dr Ben Ito", "Dr Cy Obi"}
    assert names(q="ito") == {"Dr Ben Ito"}
    assert names(q=f"cy{n}@") == {"Dr Cy Obi"}
    assert names(specialty="surgery") == {"Dr Ben Ito"}
    assert names(room="no") == {"Dr Cy Obi"}
    assert names(room="yes") == {"Dr Ada Shah", "Dr Ben Ito"}
    site.api.ok(site.api.admin.patch(f"/v1/mentors/{full['id']}", json={"available": False}))
    assert names(available="no") == {"Dr Cy Obi"}
    page = client.get(path)
    assert f'href="/schemes/{scheme}/mentors/{full["id"]}"' in page.text
    assert f'href="/schemes/{scheme}/import?kind=mentors"' in page.text


def test_a_coordinator_adds_a_mentee_and_turns_reminders_off(site: Site) -> None:
    scheme = site.api.scheme()["id"]
    client = a_coordinator(site, scheme)
    fields = {
        "cohort": "2026",
        "name": "Dr Dee Roy",
        "email": f"dee{next(_numbers)}@example.nhs.uk",
        "grade": "FY2",
        "specialty": "GP",
        "institution": "Hull",
        "objectives": "pass MRCGP; balance",
    }
    refused = post_form(client, f"/schemes/{scheme}/mentees/new", fields)
    assert refused.status_code == 422, refused.text
    assert 'href="#specialty_decided"' in refused.text
    added = post_form(
        client, f"/schemes/{scheme}/mentees/new", fields | {"specialty_decided": "no"}
    )
    assert added.status_code == 303, added.text
    mentee_path = added.headers["location"].split("?")[0]
    assert "pass MRCGP; balance" in text_of(client.get(mentee_path).text)
    listed = client.get(f"/schemes/{scheme}/mentees", params={"q": "dee roy", "cohort": "2026"})
    assert "Dr Dee Roy" in listed.text
    assert (
        "Dr Dee Roy"
        not in client.get(f"/schemes/{scheme}/mentees", params={"specialty": "surgery"}).text
    )

    changed = post_form(client, mentee_path, {"reminders": "no"})
    assert changed.status_code == 303, changed.text
    mentee_id = mentee_path.rsplit("/", 1)[1]
    record = site.api.ok(site.api.admin.get(f"/v1/mentees/{mentee_id}"))
    assert record["reminders"] is False


def test_an_import_is_previewed_refused_while_a_row_is_wrong_then_confirmed(site: Site) -> None:
    scheme = site.api.scheme()["id"]
    client = a_coordinator(site, scheme)
    n = next(_numbers)
    bad = MENTORS + (
        f"Dr Eve Lam,eve{n}@example.nhs.uk,ST5,GP,Leeds,,2,\n"
        f"Dr Fay Kim,fay{n}@example,ST5,GP,Leeds,,2,\n"
    )
    preview = upload(client, scheme, bad)
    assert preview.status_code == 422, preview.text
    words = text_of(preview.text)
    assert "Nothing has been imported" in words
    assert "Row 3 Column email Error not an email address" in words
    assert "confirm" not in hidden_fields(preview.text)
    assert mentor_names(site, scheme) == set()

    good = bad.replace(f"fay{n}@example,", f"fay{n}@example.nhs.uk,")
    preview = upload(client, scheme, good)
    assert preview.status_code == 200, preview.text
    assert "New mentors 2" in text_of(preview.text)
    assert mentor_names(site, scheme) == set()

    done = confirm(client, scheme, preview)
    assert done.status_code == 200, done.text
    assert "2 added, 0 changed, 0 already up to date" in text_of(done.text)
    assert mentor_names(site, scheme) == {"Dr Eve Lam", "Dr Fay Kim"}

    again = upload(client, scheme, good)
    assert "Already up to date 2" in text_of(again.text)
    assert "nothing to import" in text_of(again.text)
    assert "confirm" not in hidden_fields(again.text)
    # A confirm form posted again imports nothing twice.
    twice = confirm(client, scheme, preview)
    assert "0 added, 0 changed, 2 already up to date" in text_of(twice.text)
    assert mentor_names(site, scheme) == {"Dr Eve Lam", "Dr Fay Kim"}


def test_an_upload_without_a_kind_or_a_file_is_shown_again_with_the_errors(site: Site) -> None:
    scheme = site.api.scheme()["id"]
    client = a_coordinator(site, scheme)
    answer = post_form(client, f"/schemes/{scheme}/import", {})
    assert answer.status_code == 422, answer.text
    assert 'href="#kind"' in answer.text and 'href="#file"' in answer.text


def test_a_form_posted_without_its_token_changes_nothing(site: Site) -> None:
    scheme = site.api.scheme()["id"]
    client = a_coordinator(site, scheme)
    answer = client.post(
        f"/schemes/{scheme}/import",
        data={"kind": "mentors"},
        files={"file": ("p.csv", (MENTORS + "Dr X,x@example.nhs.uk,ST1,GP,Leeds,,,\n").encode())},
    )
    assert answer.status_code == 403
    assert mentor_names(site, scheme) == set()


def test_another_schemes_coordinator_and_a_mentor_cannot_open_the_pages(site: Site) -> None:
    scheme = site.api.scheme()["id"]
    other = a_coordinator(site, site.api.scheme()["id"])
    n = next(_numbers)
    mentor = site.api.mentor(scheme, email=f"mentor{n}@example.nhs.uk")
    paths = [
        f"/schemes/{scheme}/mentors",
        f"/schemes/{scheme}/mentees",
        f"/schemes/{scheme}/mentors/new",
        f"/schemes/{scheme}/mentors/{mentor['id']}",
        f"/schemes/{scheme}/import",
    ]
    for path in paths:
        answer = other.get(path)
        assert answer.status_code == 404, path
        assert "Page not found" in answer.text
    as_mentor = signed_in_visitor(site, f"mentor{n}@example.nhs.uk")
    for path in paths:
        answer = as_mentor.get(path)
        assert answer.status_code == 403, path
        assert "You cannot open this page" in answer.text
    # A mentor of this scheme is not found under another scheme's address.
    second = site.api.scheme()["id"]
    own = a_coordinator(site, second)
    assert own.get(f"/schemes/{second}/mentors/{mentor['id']}").status_code == 404
    assert site.visitor().get(paths[0]).status_code == 303
