"""Server time of the coordinator's pages for a scheme with many relationships, beside
a plain SELECT of the same rows in the same run (so ratios hold on a busy machine).

    .venv/bin/python -m bench.bench_pages [--relationships 5000] [--requests 200]

1. seeds one scheme with N relationships (domain aggregates saved in batches through
   the application): 15% still requested (a third of them stalled "unmatched"), 5%
   with a mentor invited, 10% ended, the rest matched and meeting, of which about
   40% stalled "meeting_overdue" and half of those escalated;
2. serves the real app with uvicorn on a socket (tests/e2e/conftest.py `serving`,
   projections running beside it, Temporal absent unless --temporal-address), waits
   for the projections to catch up, and signs a coordinator in by starting a session
   in the session store directly;
3. times, round robin, `--requests` GETs of each page over one keep-alive connection:
   the dashboard with its work queue, the queue filtered and sorted, its next page,
   and the pair page of a stalled pair (a matched one, and one still requested);
4. times, in the same rounds, the plain psycopg SELECTs of the rows the dashboard
   shows: the scheme's stalled pairs and its counts per state.

Prints p50/p95 per page and for the SELECTs, and each page's p95 over the SELECTs'.
Uses a scratch database on the local PostgreSQL, dropped at the end.
"""

import argparse
import contextlib
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import psycopg
from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.people import Mentee, Mentor
from domain.relationship import Relationship
from domain.scheme import Scheme
from projections import dashboard, queries
from services import read_side
from services.web.identity import Identity
from services.web.timeline import STALL_REASONS
from services.web.visitor import SESSION_COOKIE
from tests.e2e.client import Api
from tests.e2e.conftest import free_port, serving
from tests.support.databases import server_url
from tests.support.workload import COHORTS, OBJECTIVES, SURVEY

ADMIN = Actor("admin", "bench")
SYSTEM = Actor.system("bench")
MENTOR_CAPACITY = 3
SAVE_EVERY = 250  # journeys per app.save


def seed(api: Api, relationships: int) -> dict[str, Any]:
    """One scheme with `relationships` pairs in a spread of states; its id, a stalled
    matched pair and a stalled requested pair."""
    app = api.runtime.mentoring
    scheme = Scheme.create(
        {
            "name": "Bench scheme",
            "matching_model": "hybrid",
            "cohorts": COHORTS,
            "objectives": OBJECTIVES,
            "survey": SURVEY,
        },
        ADMIN,
    )
    app.save(scheme)
    today = datetime.now(UTC).date()
    mentors: list[Mentor] = []
    batch: dict[UUID, Aggregate] = {}
    picked: dict[str, str] = {}
    started = time.perf_counter()
    for number in range(relationships):
        kind = number % 20
        mentee = Mentee(
            scheme_id=scheme.id,
            cohort=("2024", "2025")[number % 2],
            name=f"Dr Mentee {number:05d}",
            email=f"mentee{number}@example.nhs.uk",
            grade="CT1",
            specialty="cardiology",
            specialty_decided=True,
            institution="General",
            interests=["research"],
            objectives=["ST3"],
            line_manager_ids=[],
            demographics={"sex": ("female", "male")[number % 2]},
            actor=ADMIN,
        )
        me = Actor("mentee", str(mentee.id))
        relationship = Relationship(
            scheme_id=scheme.id,
            mentee_id=mentee.id,
            preferred_mentor_ids=[],
            rematch_of=None,
            actor=me,
        )
        mentee.open_request(relationship.id, me)
        batch.update({mentee.id: mentee, relationship.id: relationship})
        if kind < 3:  # requested; a third of them stalled
            if kind == 0:
                relationship.flag_stalled("unmatched", SYSTEM)
                picked.setdefault("requested", str(relationship.id))
        else:
            if not mentors or not mentors[-1].has_room:
                mentors.append(
                    Mentor(
                        scheme_id=scheme.id,
                        name=f"Dr Mentor {len(mentors):05d}",
                        email=f"mentor{len(mentors)}@example.nhs.uk",
                        grade="consultant",
                        specialty="cardiology",
                        institution="North",
                        interests=["research"],
                        capacity=MENTOR_CAPACITY,
                        trained_on=None,
                        actor=ADMIN,
                    )
                )
            mentor = mentors[-1]
            batch[mentor.id] = mentor
            relationship.invite(mentor.id, True, {"algorithm": "v1", "score": 0.5}, ADMIN)
            if kind > 3:  # matched and meeting
                mentor.take_place(relationship.id, ADMIN)
                mentee.record_mentor(mentor.id, ADMIN)
                relationship.accept(Actor("mentor", str(mentor.id)))
                relationship.log_meeting(today, "video", 60, "P365D", today, me)
                relationship.record_agreement("monthly", True, True, me)
                if kind >= 18:  # ended
                    relationship.end("no_blame", "time", me)
                    mentee.close_request(relationship.id, me)
                    mentor.release_place(relationship.id, me)
                elif kind % 2 == 0 or kind % 5 == 0:
                    relationship.flag_stalled("meeting_overdue", Actor.system("meeting_cadence"))
                    if kind % 4 == 0:
                        relationship.escalate(Actor.system("escalate_after"))
                    picked.setdefault("matched", str(relationship.id))
        if (number + 1) % SAVE_EVERY == 0:
            app.save(*batch.values())
            batch = {}
    if batch:
        app.save(*batch.values())
    seconds = time.perf_counter() - started
    return {
        "scheme_id": str(scheme.id),
        "relationships": relationships,
        "mentors": len(mentors),
        "seed_seconds": seconds,
        **picked,
    }


def wait_for_projections(database_url: str, timeout: float = 600.0) -> float:
    """Seconds until every projection holds the last event."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as connection:
        while True:
            head = queries.head_position(connection)
            if min(queries.projection_positions(connection).values()) >= head:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise RuntimeError("the projections did not catch up")
            time.sleep(0.5)


def coordinator_cookie(api: Api, scheme_id: str) -> str:
    """A session secret for a coordinator of the scheme, started in the store."""
    body = {
        "name": "Dr Bench Coordinator",
        "email": "coordinator@example.nhs.uk",
        "role": "coordinator",
        "scheme_ids": [scheme_id],
    }
    account = api.ok(api.admin.post("/v1/staff", json=body), 201)
    return api.runtime.sessions.start(Identity("staff", UUID(account["id"])))


def selects(connection: psycopg.Connection[Any], scheme_id: str) -> int:
    """The plain SELECTs of the dashboard's rows: the stalled pairs and counts."""
    stalled = connection.execute(
        "SELECT relationship_id, mentee_id, mentor_id, state, reason, since, escalated "
        "FROM reporting.stalled_pairs WHERE scheme_id = %s ORDER BY since, relationship_id",
        (scheme_id,),
    ).fetchall()
    connection.execute(
        "SELECT state, count(*), count(*) FILTER (WHERE paused) "
        "FROM reporting.relationships WHERE scheme_id = %s GROUP BY state",
        (scheme_id,),
    ).fetchall()
    return len(stalled)


def summary(samples: list[float]) -> dict[str, float]:
    centiles = statistics.quantiles(samples, n=100)
    return {
        "n": len(samples),
        "p50_ms": round(centiles[49] * 1000, 2),
        "p95_ms": round(centiles[94] * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


def measure(
    base_url: str, secret: str, database_url: str, pages: dict[str, str], requests: int
) -> dict[str, Any]:
    timings: dict[str, list[float]] = {name: [] for name in [*pages, "select"]}
    cookies = {SESSION_COOKIE: secret}
    stalled = 0
    with (
        httpx.Client(base_url=base_url, cookies=cookies, timeout=30) as client,
        psycopg.connect(database_url, autocommit=True) as connection,
    ):
        for name, path in pages.items():  # warm up; every page answers
            answer = client.get(path)
            assert answer.status_code == 200, (name, answer.status_code, answer.text[:500])
        selects(connection, pages["dashboard"].rsplit("/", 1)[1])
        scheme_id = pages["dashboard"].rsplit("/", 1)[1]
        for _ in range(requests):
            for name, path in pages.items():
                started = time.perf_counter()
                answer = client.get(path)
                timings[name].append(time.perf_counter() - started)
                assert answer.status_code == 200, (name, answer.status_code)
            started = time.perf_counter()
            stalled = selects(connection, scheme_id)
            timings["select"].append(time.perf_counter() - started)
    results: dict[str, Any] = {name: summary(samples) for name, samples in timings.items()}
    for name in pages:
        for centile in ("p50", "p95"):
            ratio = results[name][f"{centile}_ms"] / results["select"][f"{centile}_ms"]
            results[name][f"{centile}_over_select"] = round(ratio, 1)
    results["select"]["stalled_rows"] = stalled
    return results


def breakdown(api: Api, scheme_id: str, rounds: int = 10) -> dict[str, float]:
    """Median ms of each read the dashboard makes, called in this process."""
    runtime = api.runtime
    scheme = UUID(scheme_id)
    parts: dict[str, list[float]] = {}

    def timed(name: str, read: Any) -> Any:
        started = time.perf_counter()
        answer = read()
        parts.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return answer

    for _ in range(rounds):
        timed("get_scheme", lambda: runtime.mentoring.get_scheme(scheme))
        with runtime.pool.connection() as connection:
            connection.autocommit = True
            timed("projections_behind", lambda: read_side.projections_behind(connection))
            timed("state_counts", lambda: dashboard.state_counts(connection, scheme))
            timed("evaluation", lambda: queries.evaluation(connection, scheme))
            rows, _, _ = timed(
                "work_queue",
                lambda: dashboard.work_queue(
                    connection, scheme, sort="longest", reasons=list(STALL_REASONS)
                ),
            )
        shown = [UUID(row["mentee_id"]) for row in rows]
        timed("mentee_names", lambda: [runtime.mentoring.get_mentee(m).name for m in shown])  # noqa: B023
    return {name: round(statistics.median(ms), 2) for name, ms in parts.items()}


def cpu_model() -> str:
    """The processor's name, from /proc/cpuinfo where there is one."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--relationships", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--temporal-address", help="default: a closed port (Temporal absent)")
    args = parser.parse_args()
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "load_before": os.getloadavg(),
    }
    temporal = args.temporal_address or f"127.0.0.1:{free_port()}"
    with server_url() as server, serving(server, MENTORING_TEMPORAL_ADDRESS=temporal) as api:
        database_url = api.runtime.settings.database_url
        assert database_url is not None
        seeded = seed(api, args.relationships)
        seeded["catch_up_seconds"] = wait_for_projections(database_url)
        print("seeded", seeded, flush=True)
        scheme = seeded["scheme_id"]
        secret = coordinator_cookie(api, scheme)
        pages = {
            "dashboard": f"/schemes/{scheme}",
            "queue_filtered": f"/schemes/{scheme}?sort=newest&reason=meeting_overdue&escalated=yes",
            "queue_page_2": f"/schemes/{scheme}?sort=reason&page=2",
            "pair_matched": f"/pairs/{seeded['matched']}",
            "pair_requested": f"/pairs/{seeded['requested']}",
        }
        results = measure(api.base_url, secret, database_url, pages, args.requests)
        results["dashboard_parts_median_ms"] = breakdown(api, scheme)
    machine["load_after"] = os.getloadavg()
    print(json.dumps({"machine": machine, "seeded": seeded, "pages": results}, indent=1))


if __name__ == "__main__":
    main()
