"""A survey round's messages: the round's name, its last day, and a link through the
sign-in page to the form; nothing about anyone else."""

from urllib.parse import parse_qs, urlsplit

import pytest

from services.mail.messages import KINDS, Letter, Recipient, Survey, compose
from workflows.survey_round_model import OPENED, REMINDER

PUBLIC_URL = "https://mentoring.example.nhs.uk"
ROUND = "8b0c5b1e-0000-4000-8000-000000000002"


@pytest.mark.parametrize("kind", [OPENED, REMINDER])
@pytest.mark.parametrize("role", ["mentee", "mentor"])
def test_a_survey_message_names_the_round_and_links_to_its_form(kind: str, role: str) -> None:
    letter = Letter(
        9,
        kind,
        ROUND,
        "Academy mentoring",
        Recipient(role, "r-1", "Dr Own", "own@example.nhs.uk"),
        None,
        Survey("Review 2026", "mentees and mentors", "16 March 2026"),
    )
    message = compose(letter, mail_from="m@example.nhs.uk", public_url=PUBLIC_URL)
    assert "Academy mentoring: " in str(message["Subject"])
    assert "Review 2026" in str(message["Subject"])
    for part in ("plain", "html"):
        body = message.get_body((part,))
        assert body is not None
        text = body.get_content()
        assert "Hello Dr Own," in text
        assert "Review 2026" in text and "16 March 2026" in text
        assert ("turn reminders off" in text) == (kind == REMINDER)
    plain = message.get_body(("plain",))
    assert plain is not None
    links = [w for w in plain.get_content().split() if w.startswith("http")]
    assert len(links) == 1
    parts = urlsplit(links[0])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{PUBLIC_URL}/sign-in"
    assert parse_qs(parts.query)["next"] == [f"/surveys/{ROUND}"]
    assert KINDS[kind].reminder == (kind == REMINDER)
