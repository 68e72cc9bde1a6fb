"""Every kind of notice has a message, for every recipient it can go to: plain text
and HTML, naming the scheme, linking to the sign-in page with the page to open."""

from urllib.parse import parse_qs, urlsplit

import pytest

from domain.timers import TIMERS
from services.mail.messages import KINDS, Letter, Party, Recipient, compose, message_id
from services.mail.notices import EVENT_NOTICES
from workflows.survey_round_model import OPENED, REMINDER

PUBLIC_URL = "https://mentoring.example.nhs.uk"
MAIL_FROM = "Mentoring <mentoring@example.nhs.uk>"
RELATIONSHIP = "8b0c5b1e-0000-4000-8000-000000000001"


def audiences() -> dict[str, set[str]]:
    """Each kind of notice and who may receive it (the pair is mentor and mentee)."""
    found: dict[str, set[str]] = {}
    given = [(c.notice, c.audience) for t in TIMERS for c in t.consequences]
    given += [(n.kind, n.audience) for n in EVENT_NOTICES.values()]
    for kind, audience in given:
        roles = {"mentor", "mentee"} if audience == "pair" else {audience}
        found.setdefault(kind, set()).update(roles)
    return found


def letter(kind: str, role: str) -> Letter:
    other = (
        None
        if role == "coordinator"
        else Party("mentee" if role == "mentor" else "mentor", "Dr Other")
    )
    return Letter(
        7,
        kind,
        RELATIONSHIP,
        "North West CMT mentoring",
        Recipient(role, "r-1", "Dr Own", "own@example.nhs.uk"),
        other,
    )


def test_every_kind_a_notice_can_have_has_a_message() -> None:
    # The survey rounds' kinds: tests/unit/test_survey_round_messages.py.
    assert set(KINDS) == set(audiences()) | {OPENED, REMINDER}


@pytest.mark.parametrize(
    ("kind", "role"),
    [(kind, role) for kind, roles in audiences().items() for role in sorted(roles)],
)
def test_each_message_names_the_scheme_and_links_to_the_page_to_act_on(
    kind: str, role: str
) -> None:
    message = compose(letter(kind, role), mail_from=MAIL_FROM, public_url=PUBLIC_URL)
    assert str(message["Subject"]).startswith("North West CMT mentoring: ")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Dr Own," in text and "Hello Dr Own," in html
    assert "North West CMT mentoring" in text
    links = [word for word in text.split() if word.startswith("http")]
    assert links
    own_page = "invitations" if kind == "invitation" else "relationships"
    expected = {
        "coordinator": f"/pairs/{RELATIONSHIP}",
        "mentor": f"/my/{own_page}/{RELATIONSHIP}",
        "mentee": f"/my/relationships/{RELATIONSHIP}",
    }[role]
    for link in links:
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{PUBLIC_URL}/sign-in"
        assert parse_qs(parts.query)["next"][0].split("?")[0] == expected
        assert f'href="{link}"' in html


def test_the_invitation_links_to_accept_and_to_decline() -> None:
    message = compose(letter("invitation", "mentor"), mail_from=MAIL_FROM, public_url=PUBLIC_URL)
    text = message.get_body(("plain",)).get_content()
    answers = {
        parse_qs(urlsplit(parse_qs(urlsplit(w).query)["next"][0]).query)["answer"][0]
        for w in text.split()
        if w.startswith("http")
    }
    assert answers == {"accept", "decline"}


def test_only_reminders_say_they_can_be_turned_off() -> None:
    for kind, given in KINDS.items():
        if kind in (OPENED, REMINDER):
            continue  # tests/unit/test_survey_round_messages.py
        role = "coordinator" if "coordinator" in audiences()[kind] else sorted(audiences()[kind])[0]
        text = (
            compose(letter(kind, role), mail_from=MAIL_FROM, public_url=PUBLIC_URL)
            .get_body(("plain",))
            .get_content()
        )
        assert ("turn reminders off" in text) == given.reminder, kind


def test_a_message_id_is_stable_per_notice_and_recipient() -> None:
    one = Recipient("mentor", "r-1", "Dr Own", "own@example.nhs.uk")
    other = Recipient("mentee", "r-1", "Dr Own", "own@example.nhs.uk")
    assert message_id(7, one, MAIL_FROM) == message_id(7, one, MAIL_FROM)
    assert (
        len(
            {
                message_id(7, one, MAIL_FROM),
                message_id(8, one, MAIL_FROM),
                message_id(7, other, MAIL_FROM),
            }
        )
        == 3
    )
    assert message_id(7, one, MAIL_FROM).endswith("@example.nhs.uk>")
