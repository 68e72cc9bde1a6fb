"""The list of relationships and the mentor directory are served from the `reporting`
tables: whoever asks, and however many pairs a scheme has, a list reads no stored
event. The one statement it sends to the event store's table is the head probe
(`max(notification_id)`, read-your-writes: wait until the projections hold every
event recorded so far)."""

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.sql import Composable

from tests.e2e.client import TODAY, Api

EVENTS_TABLE = "mentoring_events"
HEAD_PROBE = "max(notification_id)"


@pytest.fixture
def statements_to_the_events_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement the API sends to the events table from now on (the projection
    runner's threads, which share this process, are left out)."""
    seen: list[str] = []

    def recording(execute: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            text = query.as_string(cursor) if isinstance(query, Composable) else str(query)
            if EVENTS_TABLE in text and not threading.current_thread().name.startswith(
                "projection-"
            ):
                seen.append(text)
            return execute(cursor, query, *args, **kwargs)

        return wrapper

    for cursor_class in (psycopg.Cursor, psycopg.ServerCursor):
        monkeypatch.setattr(cursor_class, "execute", recording(cursor_class.execute))
    yield seen


@pytest.fixture(scope="module")
def scheme(api: Api) -> dict[str, Any]:
    """A scheme with a pair at each step: waiting, invited, met and paused, ended."""
    scheme = api.scheme(name="Read side scheme")
    waiting = api.mentee(scheme["id"])
    api.request(scheme["id"], waiting["id"])
    invited = api.request(scheme["id"], api.mentee(scheme["id"])["id"])
    api.ok(
        api.admin.post(
            f"/v1/relationships/{invited['id']}/invite",
            json={"mentor_id": api.mentor(scheme["id"])["id"]},
        )
    )
    met, mentor, mentee = api.matched_pair(scheme["id"])
    path = f"/v1/relationships/{met['id']}"
    meeting = {"held_on": TODAY, "mode": "video", "duration_minutes": 40}
    api.ok(api.admin.post(f"{path}/meetings", json=meeting), 201)
    agreement = {
        "meeting_frequency": "monthly",
        "ground_rules_agreed": True,
        "confidentiality_agreed": True,
    }
    api.ok(api.admin.post(f"{path}/agreement", json=agreement))
    api.ok(api.admin.post(f"{path}/pause", json={"reason_category": "sickness"}))
    ended = api.matched_pair(scheme["id"])[0]
    api.ok(api.admin.post(f"/v1/relationships/{ended['id']}/end", json={"kind": "no_blame"}))
    return scheme | {"mentor": mentor, "mentee": mentee}


def _callers(api: Api, scheme: dict[str, Any]) -> dict[str, httpx.Client]:
    return {
        "admin": api.admin,
        "coordinator": api.as_(api.token("coordinator", scheme_ids=[scheme["id"]])),
        "mentor": api.as_(api.token("mentor", subject_id=scheme["mentor"]["id"])),
        "mentee": api.as_(api.token("mentee", subject_id=scheme["mentee"]["id"])),
    }


def test_the_lists_read_no_stored_event(
    api: Api, scheme: dict[str, Any], statements_to_the_events_table: list[str]
) -> None:
    seen = statements_to_the_events_table
    lists = (
        ("/v1/relationships", {}),
        ("/v1/relationships", {"scheme_id": scheme["id"], "state": "active", "limit": 1}),
        ("/v1/mentors", {}),
        ("/v1/mentors", {"scheme_id": scheme["id"], "available": True}),
    )
    for caller, client in _callers(api, scheme).items():
        for path, params in lists:
            seen.clear()
            response = client.get(path, params=params)
            assert response.status_code == 200, response.text
            assert len(seen) == 1 and HEAD_PROBE in seen[0], (caller, path, params, seen)
    # Reading one relationship still reads its events, and the hook sees it.
    seen.clear()
    relationship = api.ok(api.admin.get("/v1/relationships", params={"limit": 1}))["items"][0]
    api.ok(api.admin.get(f"/v1/relationships/{relationship['id']}"))
    assert any(HEAD_PROBE not in statement for statement in seen)


def test_a_listed_relationship_is_the_relationship_as_read_alone(
    api: Api, scheme: dict[str, Any]
) -> None:
    listed = api.ok(api.admin.get("/v1/relationships", params={"scheme_id": scheme["id"]}))
    assert listed["next_cursor"] is None
    assert {r["state"] for r in listed["items"]} == {
        "requested",
        "mentor_invited",
        "active",
        "ended",
    }
    for item in listed["items"]:
        assert item == api.ok(api.admin.get(f"/v1/relationships/{item['id']}"))
    paused = next(r for r in listed["items"] if r["paused"])
    assert paused["pause_reason"] == "sickness" and paused["agreement"]["ground_rules_agreed"]


def test_pages_follow_the_order_of_the_requests(api: Api, scheme: dict[str, Any]) -> None:
    everything = api.ok(api.admin.get("/v1/relationships", params={"scheme_id": scheme["id"]}))
    paged: list[str] = []
    params: dict[str, Any] = {"scheme_id": scheme["id"], "limit": 1}
    while True:
        page = api.ok(api.admin.get("/v1/relationships", params=params))
        paged += [r["id"] for r in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert paged == [r["id"] for r in everything["items"]]
    assert [r["requested_at"] for r in everything["items"]] == sorted(
        r["requested_at"] for r in everything["items"]
    )


def test_a_list_read_straight_after_a_command_shows_it(api: Api, scheme: dict[str, Any]) -> None:
    mentee = api.mentee(scheme["id"])
    relationship = api.request(scheme["id"], mentee["id"])
    mentor = api.mentor(scheme["id"], capacity=1)
    api.ok(
        api.admin.post(
            f"/v1/relationships/{relationship['id']}/invite", json={"mentor_id": mentor["id"]}
        )
    )
    listed = api.ok(api.admin.get("/v1/relationships", params={"mentee_id": mentee["id"]}))
    assert [(r["id"], r["state"]) for r in listed["items"]] == [
        (relationship["id"], "mentor_invited")
    ]
    directory = api.ok_list(api.admin.get("/v1/mentors", params={"scheme_id": scheme["id"]}))
    listed_mentor = next(m for m in directory if m["id"] == mentor["id"])
    assert listed_mentor == api.ok(api.admin.get(f"/v1/mentors/{mentor['id']}"))
    assert listed_mentor["has_room"] is False


def test_a_resumed_pair_is_listed_without_its_pause(api: Api, scheme: dict[str, Any]) -> None:
    relationship, _, mentee = api.matched_pair(scheme["id"])
    path = f"/v1/relationships/{relationship['id']}"
    api.ok(api.admin.post(f"{path}/pause", json={"reason_category": "parental_leave"}))
    api.ok(api.admin.post(f"{path}/resume"))
    listed = api.ok(api.admin.get("/v1/relationships", params={"mentee_id": mentee["id"]}))
    assert listed["items"] == [api.ok(api.admin.get(path))]
    assert (listed["items"][0]["paused"], listed["items"][0]["pause_reason"]) == (False, None)
