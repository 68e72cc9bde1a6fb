"""Per-person keys (services.keys) on in-memory persistence: personal fields are
stored under the person's key, read back, and read as erased once it is destroyed."""

from domain.errors import DomainError
from domain.privacy import ERASED
from services.application import Mentoring
from services.keys import MARK, PersonalMapper
from services.persistence import popo_env
from tests.unit.scenario import STAFF, Pairing


def stored_state(app: Mentoring, originator_id: object) -> bytes:
    recorded = app.recorder.select_events(originator_id)  # type: ignore[arg-type]
    return b"".join(event.state for event in recorded)


def test_personal_fields_are_stored_under_the_persons_key_and_read_back() -> None:
    pairing = Pairing.requested()
    app = pairing.app
    state = stored_state(app, pairing.mentee_id)
    assert b"Dr Mentee" not in state and b"mentee@nhs.example" not in state
    assert MARK.encode() in state
    assert b"cardiology" in state  # what is not personal stays as it was
    mentee = app.get_mentee(pairing.mentee_id)
    assert (mentee.name, mentee.email, mentee.objectives) == (
        "Dr Mentee",
        "mentee@nhs.example",
        ["career"],
    )


def test_a_destroyed_key_reads_as_erased_in_every_event() -> None:
    pairing = Pairing.requested()
    app = pairing.app
    app.keys.destroy([pairing.mentee_id])
    events = list(app.events.get(pairing.mentee_id))
    registered = events[0]
    assert registered.name == ERASED  # type: ignore[attr-defined]
    assert registered.email == ERASED  # type: ignore[attr-defined]
    assert registered.objectives == []  # type: ignore[attr-defined]
    assert registered.cohort == "2026"  # type: ignore[attr-defined]


def test_a_subject_erased_gets_no_new_key() -> None:
    assert isinstance(Mentoring(env=popo_env()).mapper, PersonalMapper)
    pairing = Pairing.requested()
    pairing.app.keys.destroy([pairing.mentee_id])
    assert pairing.app.keys.key_for(pairing.mentee_id) is None


def test_erasing_records_who_and_refuses_an_open_relationship() -> None:
    pairing = Pairing.requested()
    mentee = pairing.app.get_mentee(pairing.mentee_id)
    try:
        mentee.erase("request 12", [mentee.id], STAFF)
    except DomainError as error:
        assert "open relationship" in str(error)
    else:
        raise AssertionError("erased with an open request")


def test_snapshots_hold_personal_attributes_under_the_same_keys() -> None:
    app = Mentoring(env=popo_env() | {"IS_SNAPSHOTTING_ENABLED": "y"})
    scheme_id = app.create_scheme({"name": "S", "matching_model": "assigned"}, STAFF).aggregate.id
    profile = {
        "scheme_id": scheme_id,
        "cohort": "",
        "name": "Dr Snapshot Person",
        "email": "snap@nhs.example",
        "grade": "CT1",
        "specialty": "cardiology",
        "specialty_decided": True,
        "institution": "B",
        "interests": [],
        "objectives": ["a private aim"],
        "line_manager_ids": [],
        "demographics": {"sex": "female"},
    }
    mentee_id = app.register_mentee(profile, STAFF).aggregate.id
    app.take_snapshot(mentee_id)
    assert app.snapshots is not None
    stored = b"".join(s.state for s in app.snapshots.recorder.select_events(mentee_id))
    assert stored and b"Dr Snapshot Person" not in stored and b"private aim" not in stored
    assert b"cardiology" in stored
    assert app.get_mentee(mentee_id).objectives == ["a private aim"]

    app.keys.destroy([mentee_id])
    (snapshot,) = app.snapshots.get(mentee_id)
    erased = snapshot.state  # type: ignore[attr-defined]
    assert (erased["name"], erased["email"], erased["objectives"]) == (ERASED, ERASED, [])
    assert erased["demographics"] is None
    assert app.get_mentee(mentee_id).name == ERASED
