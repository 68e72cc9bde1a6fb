"""Every reporting table and report after the scripted scheme (tests/support/
scripted_scheme.py), against values worked out by hand from the script."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
import pytest

from domain.actors import Actor
from domain.errors import NotEligible
from projections import queries
from projections.registry import PROJECTIONS
from services import bootstrap
from tests.support.clock import Clock
from tests.support.databases import scratch_database
from tests.support.mentoring import (
    ADMIN,
    COORDINATOR,
    mentee_profile,
    mentor_profile,
    mentoring,
    project,
    scheme_settings,
)
from tests.support.scripted_scheme import ScriptedScheme, play
from tests.support.settings import settings_for
from tests.support.tables import snapshot

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def scripted(postgres_server: str) -> Iterator[tuple[str, ScriptedScheme]]:
    with scratch_database(postgres_server) as url:
        with mentoring(url) as app:
            script = play(app, Clock())
        project(url)
        yield url, script


@pytest.fixture
def conn(scripted: tuple[str, ScriptedScheme]) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(scripted[0]) as connection:
        yield connection


@pytest.fixture
def s(scripted: tuple[str, ScriptedScheme]) -> ScriptedScheme:
    return scripted[1]


def day(s: ScriptedScheme, days: float) -> str:
    return s.clock.day(days).isoformat()


def test_each_relationship_is_one_row_as_it_stands_now(
    conn: psycopg.Connection[Any], s: ScriptedScheme
) -> None:
    rel, mentors = s.relationships, s.mentors
    expected = {
        "asha": ("ended", mentors["mo"], False, 1, 3, 10, 2, 70, "completed", None, None),
        "ben": ("rematched", mentors["mo"], False, 1, 6, 20, 1, 40, "no_blame", None, "ben_again"),
        "cara": ("requested", None, True, 1, None, None, 0, None, None, None, None),
        "ema": ("ended", mentors["raj"], False, 1, 8, 25, 1, 61, "completed", None, None),
        "ben_again": ("matched", mentors["nia"], False, 41, 46, None, 0, None, None, "ben", None),
    }
    for name, values in expected.items():
        state, mentor, stalled, requested, matched, met, meetings, ended, kind, of, to = values
        row = queries.relationship(conn, rel[name])
        assert row is not None
        assert (row["state"], row["mentor_id"], row["stalled"]) == (
            state,
            None if mentor is None else str(mentor),
            stalled,
        ), name
        assert row["requested_at"] == day(s, requested)
        assert row["matched_at"] == (None if matched is None else day(s, matched))
        assert row["first_meeting_at"] == (None if met is None else day(s, met))
        assert row["meetings_count"] == meetings
        assert row["ended_at"] == (None if ended is None else day(s, ended))
        assert row["end_kind"] == kind
        assert row["rematch_of"] == (None if of is None else str(rel[of]))
        assert row["rematched_to"] == (None if to is None else str(rel[to]))
    asha = queries.relationship(conn, rel["asha"])
    assert asha is not None
    assert asha["planned_end"] == day(s, 10 + 365)
    assert asha["first_meeting_on"] == "2024-03-10"
    assert asha["last_meeting_on"] == "2024-03-31"
    assert (asha["meetings_in_person"], asha["meetings_video"], asha["minutes_met"]) == (1, 1, 120)
    cara = queries.relationship(conn, rel["cara"])
    assert cara is not None
    assert (cara["stall_reason"], cara["escalated"]) == ("unmatched", True)
    page = queries.relationships(conn, scheme_id=s.scheme_id, limit=2)
    cursor = page["next_cursor"]
    second = queries.relationships(conn, scheme_id=s.scheme_id, limit=10, cursor=cursor)
    assert len(page["items"]) == 2 and len(second["items"]) == 3
    assert second["next_cursor"] is None


def test_history_holds_every_state_interval(
    conn: psycopg.Connection[Any], s: ScriptedScheme
) -> None:
    def intervals(name: str) -> list[tuple[Any, ...]]:
        return [
            (state, stalled, start, end)
            for state, stalled, start, end in conn.execute(
                "SELECT state, stalled, valid_from, valid_to FROM reporting.relationship_history "
                "WHERE relationship_id = %s ORDER BY version_from",
                (s.relationships[name],),
            )
        ]

    d = s.clock.day
    assert intervals("asha") == [
        ("requested", False, d(1), d(2)),
        ("mentor_invited", False, d(2), d(3)),
        ("matched", False, d(3), d(10)),
        ("active", False, d(10), d(70)),
        ("ended", False, d(70), None),
    ]
    assert intervals("ben") == [
        ("requested", False, d(1), d(2)),
        ("mentor_invited", False, d(2), d(4)),
        ("requested", False, d(4), d(5)),
        ("mentor_invited", False, d(5), d(6)),
        ("matched", False, d(6), d(20)),
        ("active", False, d(20), d(40)),
        ("ended", False, d(40), d(41)),
        ("rematched", False, d(41), None),
    ]
    assert intervals("cara") == [
        ("requested", False, d(1), d(12)),
        ("requested", True, d(12), None),
    ]


@pytest.mark.parametrize(
    ("days", "counts", "stalled"),
    [
        (0.5, {}, 0),
        (1.5, {"requested": 4}, 0),
        (12.04, {"active": 1, "matched": 2, "requested": 1}, 1),
        (42, {"active": 2, "requested": 2, "rematched": 1}, 1),
        (100, {"ended": 2, "rematched": 1, "requested": 1, "matched": 1}, 1),
    ],
)
def test_counts_as_of_a_time(
    conn: psycopg.Connection[Any],
    s: ScriptedScheme,
    days: float,
    counts: dict[str, int],
    stalled: int,
) -> None:
    states = ("requested", "mentor_invited", "matched", "active", "ended", "rematched")
    report = queries.counts_as_of(conn, s.scheme_id, s.clock.day(days))
    assert report["counts"] == {state: counts.get(state, 0) for state in states}
    assert report["stalled"] == stalled
    assert report["total"] == sum(counts.values())


def test_counts_need_a_timezone(conn: psycopg.Connection[Any], s: ScriptedScheme) -> None:
    with pytest.raises(ValueError):
        queries.counts_as_of(conn, s.scheme_id, datetime(2024, 3, 2))


def test_stalled_pairs_list_the_open_stalls(
    conn: psycopg.Connection[Any], s: ScriptedScheme
) -> None:
    assert queries.stalled_pairs(conn, scheme_id=s.scheme_id) == {
        "items": [
            {
                "relationship_id": str(s.relationships["cara"]),
                "scheme_id": str(s.scheme_id),
                "mentee_id": str(s.mentees["cara"]),
                "mentor_id": None,
                "state": "requested",
                "reason": "unmatched",
                "since": day(s, 12),
                "escalated": True,
                "escalated_at": day(s, 13),
            }
        ],
        "next_cursor": None,
    }


def test_mentor_load(conn: psycopg.Connection[Any], s: ScriptedScheme) -> None:
    load = {
        row["mentor_id"]: (
            row["capacity"],
            row["current_mentees"],
            row["free_places"],
            row["open_invitations"],
            row["invitations_accepted"],
            row["invitations_declined"],
            row["invitations_lapsed"],
        )
        for row in queries.mentor_load(conn, scheme_id=s.scheme_id)["items"]
    }
    assert load == {
        str(s.mentors["mo"]): (2, 0, 2, 0, 2, 0, 0),
        str(s.mentors["nia"]): (1, 1, 0, 0, 1, 1, 0),
        str(s.mentors["raj"]): (1, 0, 1, 0, 1, 0, 0),
    }


YEAR = 365.25
# (metric, stage, audience) -> (numerator, denominator, value), worked out from the script.
EVALUATION: dict[str | None, dict[tuple[str, str | None, str | None], tuple[Any, Any, Any]]] = {
    "2024": {
        ("mentees_registered", None, None): (4, None, 4.0),
        ("uptake_rate", None, None): (4, 8, 0.5),
        ("specialty_decided_rate", None, None): (3, 4, 0.75),
        ("match_rate", None, None): (2, 3, 2 / 3),
        ("met_mentor_rate", None, None): (2, 4, 0.5),
        ("median_days_to_match", None, None): (None, 2, 3.5),
        ("median_days_to_first_meeting", None, None): (None, 2, 9.5),
        ("meetings_per_pair_year", None, None): (3, 0.2245, 3 / (82 / YEAR)),
        ("meetings_mode:in_person", None, None): (1, 3, 1 / 3),
        ("meetings_mode:video", None, None): (2, 3, 2 / 3),
        ("meetings_mode:phone", None, None): (0, 3, 0.0),
        ("meetings_mode:email", None, None): (0, 3, 0.0),
        ("meetings_mode:other", None, None): (0, 3, 0.0),
        ("no_blame_end_rate", None, None): (1, 3, 1 / 3),
        ("rematch_rate", None, None): (1, 1, 1.0),
        ("median_days_to_rematch", None, None): (None, 1, 6.0),
        ("mentor_acceptance_rate", None, None): (3, 4, 0.75),
        ("survey:satisfied", "midpoint", "mentee"): (1, 1, 1.0),
        ("survey:satisfied", "end", "mentee"): (0, 0, None),
        ("survey:worthwhile", "end", "mentor"): (0, 0, None),
    },
    "2025": {
        ("mentees_registered", None, None): (1, None, 1.0),
        ("uptake_rate", None, None): (1, 4, 0.25),
        ("specialty_decided_rate", None, None): (1, 1, 1.0),
        ("match_rate", None, None): (1, 1, 1.0),
        ("met_mentor_rate", None, None): (1, 1, 1.0),
        ("median_days_to_match", None, None): (None, 1, 7.0),
        ("median_days_to_first_meeting", None, None): (None, 1, 17.0),
        ("meetings_per_pair_year", None, None): (1, 0.0986, 1 / (36 / YEAR)),
        ("meetings_mode:in_person", None, None): (0, 1, 0.0),
        ("meetings_mode:video", None, None): (0, 1, 0.0),
        ("meetings_mode:phone", None, None): (1, 1, 1.0),
        ("meetings_mode:email", None, None): (0, 1, 0.0),
        ("meetings_mode:other", None, None): (0, 1, 0.0),
        ("no_blame_end_rate", None, None): (0, 1, 0.0),
        ("rematch_rate", None, None): (0, 0, None),
        ("median_days_to_rematch", None, None): (None, 0, None),
        ("mentor_acceptance_rate", None, None): (1, 1, 1.0),
        ("survey:satisfied", "midpoint", "mentee"): (0, 0, None),
        ("survey:satisfied", "end", "mentee"): (0, 1, 0.0),
        ("survey:worthwhile", "end", "mentor"): (1, 1, 1.0),
    },
    None: {
        ("mentees_registered", None, None): (5, None, 5.0),
        ("uptake_rate", None, None): (5, 12, 5 / 12),
        ("specialty_decided_rate", None, None): (4, 5, 0.8),
        ("match_rate", None, None): (3, 4, 0.75),
        ("met_mentor_rate", None, None): (3, 5, 0.6),
        ("median_days_to_match", None, None): (None, 3, 5.0),
        ("median_days_to_first_meeting", None, None): (None, 3, 13.0),
        ("meetings_per_pair_year", None, None): (4, 0.3231, 4 / (118 / YEAR)),
        ("meetings_mode:in_person", None, None): (1, 4, 0.25),
        ("meetings_mode:video", None, None): (2, 4, 0.5),
        ("meetings_mode:phone", None, None): (1, 4, 0.25),
        ("meetings_mode:email", None, None): (0, 4, 0.0),
        ("meetings_mode:other", None, None): (0, 4, 0.0),
        ("no_blame_end_rate", None, None): (1, 4, 0.25),
        ("rematch_rate", None, None): (1, 1, 1.0),
        ("median_days_to_rematch", None, None): (None, 1, 6.0),
        ("mentor_acceptance_rate", None, None): (4, 5, 0.8),
        ("survey:satisfied", "midpoint", "mentee"): (1, 1, 1.0),
        ("survey:satisfied", "end", "mentee"): (0, 1, 0.0),
        ("survey:worthwhile", "end", "mentor"): (1, 1, 1.0),
    },
}


@pytest.mark.parametrize("cohort", ["2024", "2025", None])
def test_evaluation_by_cohort_and_for_the_whole_scheme(
    conn: psycopg.Connection[Any], s: ScriptedScheme, cohort: str | None
) -> None:
    report = queries.evaluation(conn, s.scheme_id, cohort)
    assert report is not None
    found = {
        (m["metric"], m["stage"], m["audience"]): (m["numerator"], m["denominator"], m["value"])
        for m in report["metrics"]
    }
    expected = EVALUATION[cohort]
    assert set(found) == set(expected)
    for key, (numerator, denominator, value) in expected.items():
        got = found[key]
        assert got[:2] == (numerator, denominator), key
        assert got[2] == (None if value is None else pytest.approx(value)), key


@pytest.mark.parametrize(
    ("cohort", "actual"),
    [
        ("2024", [(0.5, True), (0.5, False), (1.0, True)]),
        ("2025", [(0.25, False), (1.0, True), (0.0, False)]),
        (None, [(5 / 12, False), (0.6, False), (0.0, False)]),
    ],
)
def test_objectives_set_target_against_actual(
    conn: psycopg.Connection[Any],
    s: ScriptedScheme,
    cohort: str | None,
    actual: list[tuple[float, bool]],
) -> None:
    report = queries.evaluation(conn, s.scheme_id, cohort)
    assert report is not None
    assert [(o["id"], o["target"]) for o in report["objectives"]] == [
        ("uptake", 0.5),
        ("met", 0.9),
        ("satisfaction", 0.8),
    ]
    assert [o["met"] for o in report["objectives"]] == [met for _, met in actual]
    assert [o["actual"] for o in report["objectives"]] == pytest.approx([a for a, _ in actual])


def test_an_unknown_scheme_or_cohort_has_no_evaluation(
    conn: psycopg.Connection[Any], s: ScriptedScheme
) -> None:
    assert queries.evaluation(conn, s.scheme_id, "1999") is None
    assert queries.evaluation(conn, s.mentors["mo"]) is None


def test_equity_of_a_small_scheme_is_all_suppressed(
    conn: psycopg.Connection[Any], s: ScriptedScheme
) -> None:
    rows = queries.equity(conn, s.scheme_id)
    assert {(row["field"], row["group"]) for row in rows} == {
        ("sex", "female"),
        ("sex", "male"),
        ("sex", "not stated"),
    }
    assert all(row["suppressed"] and row["numerator"] is None for row in rows)


def test_audit_log_shows_who_did_what_and_seals_the_no_blame_ending(
    conn: psycopg.Connection[Any], s: ScriptedScheme
) -> None:
    entries = queries.audit_entries(conn, limit=1000, include_sealed=True)["items"]
    assert [e["position"] for e in entries] == list(range(1, s.position + 1))
    ben = str(s.mentees["ben"])
    ending = [e for e in entries if e["recorded_at"] == day(s, 40)]
    assert [(e["event_type"], e["actor_role"], e["actor_id"]) for e in ending] == [
        ("Relationship.Ended", None, None),
        ("Mentee.RequestClosed", None, None),
        ("Mentor.PlaceReleased", None, None),
    ]
    assert ending[0]["details"] == {"kind": "no_blame"}
    assert ending[0]["sealed"] == {
        "actor": {"role": "mentee", "id": ben},
        "reason_category": "workload",
    }
    assert ending[1]["sealed"] == {"actor": {"role": "mentee", "id": ben}}
    accepted = [e for e in entries if e["event_type"] == "Relationship.InvitationAccepted"]
    assert (accepted[0]["actor_role"], accepted[0]["actor_id"]) == ("mentor", str(s.mentors["mo"]))
    assert accepted[0]["recorded_at"] == day(s, 3)
    registered = next(e for e in entries if e["event_type"] == "Mentee.Registered")
    assert not {"name", "email", "demographics", "objectives"} & set(registered["details"])
    paused = next(e for e in entries if e["event_type"] == "Relationship.Paused")
    assert paused["details"] == {"until": None}
    feedback = next(e for e in entries if e["event_type"] == "Relationship.FeedbackGiven")
    assert feedback["details"] == {
        "stage": "midpoint",
        "respondent": "mentee",
        "questions": ["satisfied"],
    }
    assert "sealed" not in queries.audit_entries(conn, limit=1)["items"][0]


def test_audit_log_pages_and_filters(conn: psycopg.Connection[Any], s: ScriptedScheme) -> None:
    cara = s.relationships["cara"]
    first = queries.audit_entries(conn, aggregate_id=cara, limit=2)
    rest = queries.audit_entries(conn, aggregate_id=cara, limit=2, cursor=first["next_cursor"])
    assert [e["event_type"] for e in first["items"] + rest["items"]] == [
        "Relationship.Requested",
        "Relationship.StallFlagged",
        "Relationship.Escalated",
    ]
    assert rest["next_cursor"] is None
    since = queries.audit_entries(conn, since=s.clock.day(70))["items"]
    assert {e["recorded_at"] for e in since} == {day(s, 70)}
    with pytest.raises(ValueError):
        queries.audit_entries(conn, cursor="not-a-cursor")


def test_the_audit_chain_verifies(conn: psycopg.Connection[Any], s: ScriptedScheme) -> None:
    assert queries.verify_audit(conn) == {
        "ok": True,
        "rows": s.position,
        "complete": True,
        "lag": 0,
        "first_bad_row": None,
    }


def test_every_projection_has_reached_the_last_command(
    conn: psycopg.Connection[Any], s: ScriptedScheme
) -> None:
    assert queries.wait_for_position(conn, s.position, timeout=0.1)
    assert queries.projection_positions(conn) == dict.fromkeys(PROJECTIONS, s.position)
    assert not queries.wait_for_position(conn, s.position + 1, timeout=0.05)


def test_rebuilt_in_big_batches_the_tables_are_the_same(
    scripted: tuple[str, ScriptedScheme],
) -> None:
    url = scripted[0]
    before = snapshot(url)
    for name in PROJECTIONS:
        result = bootstrap.rebuild(settings_for(url), name, batch_size=5000)
        assert result.position == scripted[1].position
    assert snapshot(url) == before


def test_an_invitation_withdrawn_when_the_last_place_went_first(database_url: str) -> None:
    """Two mentees' invitations race for a mentor's last place: the second
    acceptance finds it gone, and that invitation is withdrawn."""
    with mentoring(database_url) as app:
        scheme = app.create_scheme(scheme_settings(), ADMIN).aggregate.id
        mentor = app.register_mentor(mentor_profile(scheme, capacity=1), ADMIN).aggregate.id
        first, second = (
            app.request_mentor(
                scheme, app.register_mentee(mentee_profile(scheme, "2024"), ADMIN).aggregate.id,
                [], ADMIN,
            ).aggregate.id
            for _ in range(2)
        )  # fmt: skip
        for relationship in (first, second):
            app.invite_mentor(relationship, mentor, COORDINATOR)
        app.respond_to_invitation(first, True, Actor("mentor", str(mentor)))
        with pytest.raises(NotEligible):
            app.respond_to_invitation(second, True, Actor("mentor", str(mentor)))
    project(database_url)
    with psycopg.connect(database_url) as conn:
        lost = queries.relationship(conn, second)
        assert lost is not None
        assert (lost["state"], lost["mentor_id"], lost["invitations_withdrawn"]) == (
            "requested",
            None,
            1,
        )
        load = queries.mentor_load(conn, scheme_id=scheme)["items"][0]
        assert (load["current_mentees"], load["open_invitations"]) == (1, 0)
        assert (load["invitations_accepted"], load["invitations_withdrawn"]) == (1, 1)
        history = conn.execute(
            "SELECT state FROM reporting.relationship_history WHERE relationship_id = %s "
            "ORDER BY version_from",
            (second,),
        ).fetchall()
        assert [state for (state,) in history] == ["requested", "mentor_invited", "requested"]
        withdrawn = queries.audit_entries(conn, aggregate_id=second)["items"][-1]
        assert (withdrawn["event_type"], withdrawn["details"]) == (
            "Relationship.InvitationWithdrawn",
            {"reason": "no_capacity"},
        )
