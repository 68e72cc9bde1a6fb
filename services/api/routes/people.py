"""Mentors (with the directory mentees browse) and mentees."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status

from services import read_side
from services.access import (
    Action,
    Forbidden,
    allowed,
    check_allowed,
    check_can_register,
    check_scheme,
    own_scheme_id,
)
from services.api import answers
from services.api.deps import MentoringDep, RuntimeDep, require
from services.api.problems import AUTHENTICATED, BEHIND, COMMAND, ONE_RECORD
from services.api.schemas import MenteeIn, MenteePatch, MentorIn, MentorPatch
from services.application import Mentoring
from services.auth import Principal
from services.errors import NotFound
from services.views import mentee_view, mentor_view, saved_view

router = APIRouter(tags=["people"], responses=AUTHENTICATED)

Registrar = Annotated[Principal, Depends(require(Action.REGISTER_PEOPLE))]
MentorUpdater = Annotated[Principal, Depends(require(Action.UPDATE_MENTOR))]
PeopleReader = Annotated[Principal, Depends(require(Action.READ_PEOPLE))]
RemindersSetter = Annotated[Principal, Depends(require(Action.SET_REMINDERS))]


@router.post(
    "/v1/mentors",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.SavedMentor,
    responses=COMMAND,
    summary="Register a mentor in a scheme",
)
def register_mentor(
    body: MentorIn, principal: Registrar, mentoring: MentoringDep
) -> dict[str, Any]:
    check_can_register(principal, body.scheme_id)
    saved = mentoring.register_mentor(body.model_dump(), principal.actor)
    return saved_view(mentor_view(saved.aggregate, with_contact=True), saved.position)


@router.patch("/v1/mentors/{mentor_id}", response_model=answers.SavedMentor, responses=COMMAND)
def update_mentor(
    mentor_id: UUID, body: MentorPatch, principal: MentorUpdater, mentoring: MentoringDep
) -> dict[str, Any]:
    """Staff change capacity, availability and training; mentors their own capacity
    and availability. `reminders: false` stops reminders by email (invitations
    still come)."""
    if body.trained_on is not None and not allowed(principal, Action.RECORD_TRAINING):
        raise Forbidden("training is recorded by the scheme's staff")
    mentor = mentoring.get_mentor(mentor_id)
    check_scheme(principal, mentor.scheme_id, "mentor", mentor_id)
    if principal.role == "mentor" and principal.subject_id != mentor_id:
        raise NotFound("mentor", mentor_id)
    saved = mentoring.update_mentor(
        mentor_id, principal.actor, **body.model_dump(exclude_none=True)
    )
    return saved_view(mentor_view(saved.aggregate, with_contact=True), saved.position)


@router.get(
    "/v1/mentors",
    response_model=list[answers.Mentor],
    response_model_exclude_unset=True,
    responses=BEHIND,
)
def mentor_directory(
    principal: PeopleReader,
    runtime: RuntimeDep,
    scheme_id: UUID | None = None,
    specialty: Annotated[str | None, Query(max_length=100)] = None,
    available: bool | None = None,
) -> list[dict[str, Any]]:
    """Profiles and whether each mentor has room (`available`: has room or not);
    contact details for staff only. Mentors and mentees see their own scheme's
    directory. From the read side."""
    return read_side.mentor_directory(runtime.pool, principal, scheme_id, specialty, available)


@router.get(
    "/v1/mentors/{mentor_id}",
    response_model=answers.Mentor,
    response_model_exclude_unset=True,
    responses=ONE_RECORD,
    summary="A mentor's profile, and whether they have room",
)
def get_mentor(mentor_id: UUID, principal: PeopleReader, mentoring: MentoringDep) -> dict[str, Any]:
    mentor = mentoring.get_mentor(mentor_id)
    check_scheme(principal, mentor.scheme_id, "mentor", mentor_id)
    own = own_scheme_id(principal, mentoring)
    if own is not None and own != mentor.scheme_id:
        raise NotFound("mentor", mentor_id)
    with_contact = (
        allowed(principal, Action.SEE_CONTACT_DETAILS) or principal.subject_id == mentor_id
    )
    return mentor_view(mentor, with_contact, mentoring.matchmaking.places_held()[mentor_id])


@router.post(
    "/v1/mentees",
    status_code=status.HTTP_201_CREATED,
    response_model=answers.SavedMentee,
    response_model_exclude_unset=True,
    responses=COMMAND,
    summary="Register a mentee in a scheme",
)
def register_mentee(
    body: MenteeIn, principal: Registrar, mentoring: MentoringDep
) -> dict[str, Any]:
    check_can_register(principal, body.scheme_id)
    saved = mentoring.register_mentee(body.model_dump(), principal.actor)
    with_demographics = allowed(principal, Action.SEE_DEMOGRAPHICS)
    return saved_view(mentee_view(saved.aggregate, with_demographics), saved.position)


@router.get(
    "/v1/mentees/{mentee_id}",
    response_model=answers.Mentee,
    response_model_exclude_unset=True,
    responses=ONE_RECORD,
)
def get_mentee(mentee_id: UUID, principal: PeopleReader, mentoring: MentoringDep) -> dict[str, Any]:
    """Staff, auditors and the mentee see the record; the mentee's current mentor sees
    it too. Demographics (special-category data) only to admins, auditors and the
    mentee themselves."""
    mentee = mentoring.get_mentee(mentee_id)
    check_scheme(principal, mentee.scheme_id, "mentee", mentee_id)
    if principal.role == "mentee" and principal.subject_id != mentee_id:
        raise NotFound("mentee", mentee_id)
    if principal.role == "mentor" and not _is_current_mentor(
        principal, mentee.open_relationship_id, mentoring
    ):
        raise NotFound("mentee", mentee_id)
    with_demographics = allowed(principal, Action.SEE_DEMOGRAPHICS) or principal.role == "mentee"
    return mentee_view(mentee, with_demographics)


@router.patch("/v1/mentees/{mentee_id}", response_model=answers.SavedMentee, responses=COMMAND)
def update_mentee(
    mentee_id: UUID, body: MenteePatch, principal: RemindersSetter, mentoring: MentoringDep
) -> dict[str, Any]:
    """Turn the mentee's reminders by email on or off, or change their objectives:
    staff, or the mentee themselves."""
    if body.objectives is not None:
        check_allowed(principal, Action.CHANGE_OBJECTIVES)
    mentee = mentoring.get_mentee(mentee_id)
    check_scheme(principal, mentee.scheme_id, "mentee", mentee_id)
    if principal.role == "mentee" and principal.subject_id != mentee_id:
        raise NotFound("mentee", mentee_id)
    saved = mentoring.update_mentee(
        mentee_id, principal.actor, reminders=body.reminders, objectives=body.objectives
    )
    with_demographics = allowed(principal, Action.SEE_DEMOGRAPHICS) or principal.role == "mentee"
    return saved_view(mentee_view(saved.aggregate, with_demographics), saved.position)


def _is_current_mentor(
    principal: Principal, relationship_id: UUID | None, mentoring: Mentoring
) -> bool:
    if relationship_id is None:
        return False
    return mentoring.get_relationship(relationship_id).mentor_id == principal.subject_id
