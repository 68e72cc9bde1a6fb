"""A survey round's emails on the time-skipping test server: nothing before it opens,
an invitation to everyone in scope when it opens, a reminder two days before it
closes to those who have not answered, and the round's workflow ends at the close."""

import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool
from temporalio.client import WorkflowExecutionStatus, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from domain.actors import Actor
from services.application import Mentoring
from services.mail.transport import MailDirectory
from services.persistence import create_cipher_key, postgres_env
from tests.support.mail import PUBLIC_URL, sender_on
from tests.support.mentoring import (
    ADMIN,
    COORDINATOR,
    mentee_profile,
    mentor_profile,
    scheme_settings,
)
from tests.workflows import harness
from tests.workflows.harness import outbox_rows
from workflows.activities import RelationshipActivities
from workflows.outbox import Outbox
from workflows.relay import deliver, round_scheduled
from workflows.survey_round import SurveyRoundWorkflow
from workflows.survey_round_activities import SurveyRoundActivities
from workflows.survey_round_model import workflow_id

pytestmark = pytest.mark.anyio
# The opening, the reminder and the close, as the scenario below ran them (kept apart
# from tests/histories, which hold RelationshipWorkflow's).
KEPT = Path(__file__).parents[1] / "histories" / "survey_rounds" / "open-remind-close.json"
TASK_QUEUE = "survey-rounds"
SURVEY = [
    {"id": "benefited", "text": "Benefited?", "kind": "yes_no", "audience": "mentee",
     "stages": ["review"]},
    {"id": "worthwhile", "text": "Worthwhile?", "kind": "yes_no", "audience": "mentor",
     "stages": ["review"]},
]  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def mentoring(database_url: str) -> Iterator[Mentoring]:
    application = Mentoring(env=postgres_env(database_url, create_cipher_key()))
    yield application
    application.close()


@pytest.fixture
async def env(mentoring: Mentoring, database_url: str) -> AsyncIterator[WorkflowEnvironment]:
    """The test server and a worker running the rounds' workflow and activities."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=harness.test_server_path()
    )
    pool = ConnectionPool(database_url, min_size=1, max_size=2, open=True)
    outbox = Outbox(pool)
    outbox.create_table()
    activities = [
        RelationshipActivities(mentoring, outbox).notify,
        *SurveyRoundActivities(mentoring.survey_rounds.get).all(),
    ]
    try:
        with ThreadPoolExecutor(max_workers=2) as executor:
            async with Worker(
                environment.client,
                task_queue=TASK_QUEUE,
                workflows=[SurveyRoundWorkflow],
                activities=activities,
                activity_executor=executor,
            ):
                yield environment
    finally:
        await environment.shutdown()
        pool.close()


def until(instant: datetime, now: datetime) -> timedelta:
    return instant - now


async def test_a_round_invites_everyone_then_reminds_those_who_have_not_answered(
    env: WorkflowEnvironment, mentoring: Mentoring, database_url: str, tmp_path: Path
) -> None:
    start = await env.get_current_time()
    today = start.astimezone(UTC).date()
    scheme_id = mentoring.create_scheme(
        scheme_settings(
            require_mentor_acceptance=False,
            cohorts=[{"name": "2026", "eligible_count": 3}],
            survey=SURVEY,
        ),
        ADMIN,
    ).aggregate.id
    mentee_ids = [
        mentoring.register_mentee(
            mentee_profile(
                scheme_id, "2026", name=f"Dr Mentee {n}", email=f"mentee{n}@example.org"
            ),
            ADMIN,
        ).aggregate.id
        for n in range(3)
    ]
    mentor_id = mentoring.register_mentor(
        mentor_profile(scheme_id, email="mentor@example.org"), ADMIN
    ).aggregate.id
    pair = mentoring.request_mentor(scheme_id, mentee_ids[0], [], ADMIN).aggregate.id
    mentoring.invite_mentor(pair, mentor_id, COORDINATOR)

    opens_on = today + timedelta(days=1)
    survey_round = mentoring.survey_rounds.schedule(
        scheme_id,
        name="Autumn review",
        stage="review",
        cohort="2026",
        audience="both",
        opens_on=opens_on,
        closes_on=today + timedelta(days=8),
        actor=COORDINATOR,
    ).aggregate
    scheduled = next(iter(mentoring.events.get(survey_round.id)))
    started = round_scheduled(scheduled)  # type: ignore[arg-type]
    await deliver(env.client, started, TASK_QUEUE)
    await deliver(env.client, started, TASK_QUEUE)  # delivered again: one workflow
    assert str(survey_round.id) in workflow_id(str(survey_round.id))

    def midnight(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)

    await env.sleep(until(midnight(opens_on), start) - timedelta(minutes=1))
    assert outbox_rows(database_url, survey_round.id) == []

    await env.sleep(timedelta(minutes=2))
    assert outbox_rows(database_url, survey_round.id) == [("pair", "survey_round_opened")]

    mentoring.survey_rounds.today = lambda: opens_on
    answer = {"benefited": True}
    mentee = Actor("mentee", str(mentee_ids[0]))
    mentoring.survey_rounds.answer(survey_round.id, mentee_ids[0], answer, mentee)

    # The reminder: two days before the end of the last day.
    remind_at = midnight(today + timedelta(days=7))
    await env.sleep(until(remind_at, await env.get_current_time()) + timedelta(minutes=1))
    assert outbox_rows(database_url, survey_round.id) == [
        ("pair", "survey_round_opened"),
        ("pair", "survey_round_reminder"),
    ]

    await env.sleep(timedelta(days=2))
    handle = env.client.get_workflow_handle(workflow_id(str(survey_round.id)))
    with env.auto_time_skipping_disabled():
        description = await handle.describe()
        history = await handle.fetch_history()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    await Replayer(workflows=[SurveyRoundWorkflow]).replay_workflow(history)
    if os.environ.get(harness.CAPTURE_HISTORIES):
        KEPT.parent.mkdir(parents=True, exist_ok=True)
        KEPT.write_text(history.to_json())

    directory = MailDirectory(tmp_path / "mail")
    with sender_on(mentoring, database_url, directory) as sender:
        for _ in range(3):
            sender.round()
    messages = [m.message for m in directory.messages() if "survey" in str(m.message["Subject"])]
    sent = Counter(
        (str(m["Subject"]).split(": ", 1)[1], m["To"].addresses[0].addr_spec) for m in messages
    )
    # Mentee 0 answered before the reminder; the mentor did not.
    invited = ["mentee0@example.org", "mentee1@example.org", "mentee2@example.org"]
    assert sent == Counter(
        {("please answer the survey Autumn review", a): 1 for a in [*invited, "mentor@example.org"]}
        | {("the survey Autumn review closes soon", a): 1 for a in invited[1:]}
        | {("the survey Autumn review closes soon", "mentor@example.org"): 1}
    )
    link = f"{PUBLIC_URL}/sign-in?next={quote(f'/surveys/{survey_round.id}', safe='')}"
    for message in messages:
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert link in text
        assert "Autumn review" in text
        others = {"Dr Mentee 0", "Dr Mentee 1", "Dr Mentee 2", "Dr Mentor"} - {
            message["To"].addresses[0].display_name
        }
        assert not any(name in text for name in others)


async def test_the_kept_history_of_a_round_replays_against_the_current_workflow() -> None:
    """Captured by the scenario above with MENTORING_CAPTURE_HISTORIES set."""
    kept = WorkflowHistory.from_json(KEPT.stem, KEPT.read_text())
    await Replayer(workflows=[SurveyRoundWorkflow]).replay_workflow(kept)


def test_ids_only_cross_the_temporal_boundary() -> None:
    round_id = UUID(int=7)
    assert workflow_id(str(round_id)) == f"survey-round-{round_id}"
