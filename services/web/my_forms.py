"""The forms of the mentors' and mentees' own pages, read into the API's own request
bodies (services.api.schemas), so that a form and a JSON body obey one set of
rules. A form's text is turned into the body's types first (a number typed in, a
box ticked); what the body then refuses comes back as a message for each field, in
words for the page."""

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.api.schemas import (
    AgreementIn,
    MeetingIn,
    MenteePatch,
    MentorPatch,
    PauseIn,
    RespondIn,
)

B = TypeVar("B", bound=BaseModel)

Errors = dict[str, str]

MEETING_MESSAGES = {
    "held_on": "Enter the date of the meeting, like 2026-11-27, not in the future",
    "mode": "Select how you met",
    "duration_minutes": "Enter how long the meeting lasted, in minutes (1 to 1440)",
}
AGREEMENT_MESSAGES = {
    "meeting_frequency": "Enter how often you plan to meet, like monthly",
    "ground_rules_agreed": "Tick the box if you have agreed ground rules",
    "confidentiality_agreed": "Tick the box if you have agreed confidentiality",
}
PAUSE_MESSAGES = {
    "reason_category": "Select why you are pausing",
    "until": "Enter the date you expect to resume, like 2027-03-01, or leave it empty",
}
AVAILABILITY_MESSAGES = {
    "capacity": "Enter how many mentees you can take at once, from 0 to 20",
    "available": "Select whether you are taking new mentees",
}

ANSWER_MESSAGES = {
    "accept": "Select whether you accept the invitation",
    "reason_category": "Select a reason from the list, or none",
}
OBJECTIVES_MESSAGES = {
    "objectives": "Enter at most 20 objectives, one a line, each under 200 characters",
}


class FormRefused(Exception):
    """The form's fields are not right; `errors` has a message for each wrong one."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def whole_number(text: str | None) -> int | str | None:
    """A number typed in, as an int; the text as typed if it is not a whole number
    (the body refuses it); None if nothing was typed."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 6 else text


def yes_no(text: str | None) -> bool | str | None:
    """A "yes" or "no" radio as a bool; anything else as given (refused)."""
    if text is None:
        return None
    return {"yes": True, "no": False}.get(text, text)


def blank_as_none(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def body_of(model: type[B], values: Mapping[str, Any], messages: Mapping[str, str]) -> B:
    """The body `values` make (None values left out); FormRefused with a message per
    wrong field, in the order of `messages`."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as error:
        wrong = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
        errors = {field: text for field, text in messages.items() if field in wrong}
        raise FormRefused(errors or {next(iter(messages)): str(error)}) from None


def meeting_body(form: Mapping[str, str]) -> MeetingIn:
    values = {
        "held_on": blank_as_none(form.get("held_on")),
        "mode": form.get("mode"),
        "duration_minutes": whole_number(form.get("duration_minutes")),
    }
    missing = {k: MEETING_MESSAGES[k] for k, v in values.items() if v is None}
    if missing:
        raise FormRefused(missing)
    return body_of(MeetingIn, values, MEETING_MESSAGES)


def agreement_body(form: Mapping[str, str]) -> AgreementIn:
    values = {
        "meeting_frequency": blank_as_none(form.get("meeting_frequency")),
        "ground_rules_agreed": form.get("ground_rules_agreed") == "yes",
        "confidentiality_agreed": form.get("confidentiality_agreed") == "yes",
    }
    if values["meeting_frequency"] is None:
        raise FormRefused({"meeting_frequency": AGREEMENT_MESSAGES["meeting_frequency"]})
    return body_of(AgreementIn, values, AGREEMENT_MESSAGES)


def pause_body(form: Mapping[str, str]) -> PauseIn:
    values = {
        "reason_category": form.get("reason_category"),
        "until": blank_as_none(form.get("until")),
    }
    if values["reason_category"] is None:
        raise FormRefused({"reason_category": PAUSE_MESSAGES["reason_category"]})
    return body_of(PauseIn, values, PAUSE_MESSAGES)


def availability_body(form: Mapping[str, str]) -> MentorPatch:
    values = {
        "capacity": whole_number(form.get("capacity")),
        "available": yes_no(form.get("available")),
    }
    missing = {k: AVAILABILITY_MESSAGES[k] for k, v in values.items() if v is None}
    if missing:
        raise FormRefused(missing)
    return body_of(MentorPatch, values, AVAILABILITY_MESSAGES)


def objectives_body(form: Mapping[str, str]) -> MenteePatch:
    """One objective a line; empty lines are dropped."""
    lines = (form.get("objectives") or "").splitlines()
    objectives = [line.strip() for line in lines if line.strip()]
    return body_of(MenteePatch, {"objectives": objectives}, OBJECTIVES_MESSAGES)


def answer_body(form: Mapping[str, str]) -> RespondIn:
    """Accept or decline; a decline's reason is optional, and only a decline has one."""
    answer = form.get("answer")
    if answer not in ("accept", "decline"):
        raise FormRefused({"answer": ANSWER_MESSAGES["accept"]})
    reason = blank_as_none(form.get("reason_category")) if answer == "decline" else None
    values = {"accept": answer == "accept", "reason_category": reason}
    return body_of(RespondIn, values, ANSWER_MESSAGES)
