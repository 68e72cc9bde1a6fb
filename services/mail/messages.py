"""The message each kind of notice becomes, for one recipient: a plain-text and an
HTML part from the templates under `templates/` (`<kind>.txt`, `<kind>.html`),
a subject naming the scheme, and a link to the page where the recipient acts.

What a message may carry is fixed here and nowhere else: the scheme's name, the
recipient's own name, the other party's name and role, and links. Never a
meeting's details, a sealed reason, demographics or anything else of the other
party's profile: the templates are given nothing more.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Kind:
    """A kind of notice: its subject (`{scheme}` is the scheme's name), whether the
    recipient may turn it off (a reminder), and which page its link opens."""

    subject: str
    reminder: bool = False
    page: str = "relationship"  # "relationship", "invitation" or "survey"


KINDS: dict[str, Kind] = {
    "invitation": Kind("{scheme}: you are invited to mentor", page="invitation"),
    "matched": Kind("{scheme}: you have been matched - please arrange your first meeting"),
    "rematched": Kind("{scheme}: we are finding you a new mentor"),
    "no_first_meeting": Kind("{scheme}: your first meeting is overdue", reminder=True),
    "meeting_overdue": Kind("{scheme}: a meeting is overdue", reminder=True),
    "midpoint_check_in_due": Kind("{scheme}: your midpoint check-in is due", reminder=True),
    "end_of_scheme_feedback_due": Kind("{scheme}: end-of-scheme feedback is due", reminder=True),
    "completed": Kind("{scheme}: your mentoring relationship is complete"),
    "unmatched": Kind("{scheme}: a mentee is still waiting for a mentor"),
    "pick_overdue": Kind("{scheme}: a mentee has not picked a mentor"),
    "invitation_lapsed": Kind("{scheme}: a mentor did not answer an invitation"),
    "escalated": Kind("{scheme}: a stalled pair needs your attention"),
    "survey_round_opened": Kind("{scheme}: please answer the survey {survey}", page="survey"),
    "survey_round_reminder": Kind(
        "{scheme}: the survey {survey} closes soon", reminder=True, page="survey"
    ),
    "rematch_asked": Kind("{scheme}: a mentee asks for a new mentor"),
    "pairing_not_working": Kind("{scheme}: a pair may want a no-blame rematch"),
}


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to: their role in the notice (`mentor`, `mentee`,
    `coordinator`), id, name and address, and whether they take reminders."""

    role: str
    id: str
    name: str
    email: str
    reminders: bool = True


@dataclass(frozen=True)
class Party:
    """The other person of the pair, as a message may name them."""

    role: str
    name: str


@dataclass(frozen=True)
class Survey:
    """The survey round a message asks the recipient to answer: its name, whom it
    asks (`mentees`, `mentors`, `mentees and mentors`) and its last day."""

    name: str
    asked: str
    closes_on: str


@dataclass(frozen=True)
class Letter:
    """Everything a message is made from. A survey round's notices carry the round's
    id as `relationship_id`, and its `survey`."""

    notice_id: int
    kind: str
    relationship_id: str
    scheme_name: str
    recipient: Recipient
    other: Party | None
    survey: Survey | None = None


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
)


def sign_in_link(public_url: str, path: str) -> str:
    """`{public_url}/sign-in?next=<path>`: the page signs the person in, then opens `path`."""
    return f"{public_url}/sign-in?next={quote(path, safe='')}"


def page_of(letter: Letter) -> str:
    """The path of the page where the recipient acts on the notice."""
    if letter.recipient.role == "coordinator":
        return f"/pairs/{letter.relationship_id}"
    if KINDS[letter.kind].page == "invitation":
        return f"/my/invitations/{letter.relationship_id}"
    if KINDS[letter.kind].page == "survey":
        return f"/surveys/{letter.relationship_id}"
    return f"/my/relationships/{letter.relationship_id}"


def message_id(notice_id: int, recipient: Recipient, mail_from: str) -> str:
    """The Message-ID of the notice's message to this recipient: the same on every
    try, so a mail server or the mail directory can tell a repeat. The recipient
    appears as a digest of their role and id, short enough not to fold."""
    domain = mail_from.rpartition("@")[2].strip(" >") or "mentoring.invalid"
    recipient_key = hashlib.sha256(f"{recipient.role}:{recipient.id}".encode()).hexdigest()[:16]
    return f"<notice-{notice_id}.{recipient.role}.{recipient_key}@{domain}>"


def compose(letter: Letter, *, mail_from: str, public_url: str) -> EmailMessage:
    """The message for `letter`. Raises KeyError for a kind with no template."""
    kind = KINDS[letter.kind]
    page = page_of(letter)
    context = {
        "scheme": letter.scheme_name,
        "recipient": letter.recipient,
        "other": letter.other,
        "link": sign_in_link(public_url, page),
        "accept_link": sign_in_link(public_url, f"{page}?answer=accept"),
        "decline_link": sign_in_link(public_url, f"{page}?answer=decline"),
        "reminder": kind.reminder,
        "survey": letter.survey,
    }
    message = EmailMessage()
    survey_name = letter.survey.name if letter.survey else ""
    message["Subject"] = kind.subject.format(scheme=letter.scheme_name, survey=survey_name)
    message["From"] = mail_from
    message["To"] = Address(display_name=letter.recipient.name, addr_spec=letter.recipient.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id(letter.notice_id, letter.recipient, mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_environment.get_template(f"{letter.kind}.txt").render(context))
    message.add_alternative(
        _environment.get_template(f"{letter.kind}.html").render(context), subtype="html"
    )
    return message
