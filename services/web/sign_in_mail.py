"""The email that carries a sign-in link: plain text and HTML, naming the service,
giving the link and how long it works, and saying what to do if you did not ask.

Its `Message-ID` is made from the link's id: unique to the link, and the same if
the message is handed over again."""

from email.message import EmailMessage
from email.utils import parseaddr
from uuid import UUID

from services.config import Settings
from services.web.links import LINK_LIFETIME
from services.web.pages import service_name, templates


def message_id(settings: Settings, link_id: UUID) -> str:
    """`<sign-in-<link id>@<the sender's domain>>`."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<sign-in-{link_id}@{domain}>"


def sign_in_message(settings: Settings, to: str, url: str, link_id: UUID) -> EmailMessage:
    """The message sending `url`, the link `link_id`, to `to`."""
    context = {
        "service_name": service_name(settings),
        "url": url,
        "minutes": int(LINK_LIFETIME.total_seconds() // 60),
    }
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = f"Your link to sign in to {context['service_name']}"
    message["Message-ID"] = message_id(settings, link_id)
    message.set_content(templates.get_template("mail/sign_in.txt").render(context))
    message.add_alternative(
        templates.get_template("mail/sign_in.html").render(context), subtype="html"
    )
    return message
