"""What keeps the counts whole through an erasure and a rebuild, on in-memory
persistence: survey answers are pseudonymous (kept out of the audit trail, not under
a key, so they read after the pair's key is destroyed), and the anonymous equity
record holds the facts the equity report counts, with its demographics under a key
of its own."""

from domain.equity_record import WITHHELD, AnonymousEquityRecord, shared_with_others
from domain.privacy import keyed_fields, personal_fields
from domain.relationship import Relationship
from domain.survey_round import SurveyRound
from services.keys import MARK
from tests.unit.scenario import Pairing

DEMOGRAPHICS = {"ethnicity": "asian_indian", "sex": "male"}


def test_survey_answers_are_personal_but_not_under_a_key() -> None:
    for event_class in (Relationship.FeedbackGiven, SurveyRound.Answered):
        assert "answers" in personal_fields(event_class)  # audit trail, export
        assert "answers" not in keyed_fields(event_class)
    assert "reason_category" in keyed_fields(Relationship.Paused)


def test_the_answers_read_after_the_pairs_key_is_destroyed() -> None:
    pairing = Pairing.requested()
    pairing.invite()
    pairing.accept()
    pairing.meet()
    pairing.agree()
    pairing.feedback("midpoint")()
    pairing.app.keys.destroy([pairing.mentee_id, pairing.relationship_id])
    given = [
        event
        for event in pairing.app.events.get(pairing.relationship_id)
        if isinstance(event, Relationship.FeedbackGiven)
    ]
    assert [event.answers for event in given] == [{"satisfied": 4}]


def test_the_record_counts_a_pairing_as_the_equity_report_does_and_unlinked() -> None:
    pairing = Pairing.requested()
    assert AnonymousEquityRecord.of(pairing.scheme_id, None, [], []).requested is False
    unmatched = AnonymousEquityRecord.of(pairing.scheme_id, None, [pairing.relationship], [])
    assert (unmatched.requested, unmatched.matched, unmatched.met) == (True, False, False)
    pairing.invite()
    pairing.accept()
    pairing.meet()
    pairing.end("no_blame")
    record = AnonymousEquityRecord.of(
        pairing.scheme_id, DEMOGRAPHICS, [pairing.relationship], [DEMOGRAPHICS]
    )
    facts = (record.requested, record.matched, record.met, record.no_blame)
    assert facts == (True, True, True, True)
    assert record.id not in (pairing.mentee_id, pairing.relationship_id)
    app = pairing.app
    app.save(record)
    stored = b"".join(e.state for e in app.recorder.select_events(record.id))
    assert b"asian_indian" not in stored and MARK.encode() in stored
    assert str(pairing.mentee_id).encode() not in stored
    # Erasing the mentee destroys their keys, not the record's.
    app.keys.destroy([pairing.mentee_id, pairing.relationship_id])
    assert app.repository.get(record.id).demographics == DEMOGRAPHICS


def test_a_value_no_one_else_holds_is_withheld_and_a_shared_one_kept() -> None:
    mine = {"ethnicity": "asian_indian", "sex": "male", "religion": "jain"}
    others = [
        {"ethnicity": "asian_indian", "sex": "female"},
        None,
        {"sex": "male", "religion": "sikh"},
        # The same value in another field is not the same group.
        {"ethnicity": "jain"},
    ]
    assert shared_with_others(mine, others) == {
        "ethnicity": "asian_indian",
        "sex": "male",
        "religion": WITHHELD,
    }
    assert shared_with_others(mine, []) == dict.fromkeys(mine, WITHHELD)
    assert shared_with_others(None, others) is None


def test_the_record_keeps_only_values_others_share() -> None:
    pairing = Pairing.requested()
    unique = {"ethnicity": "asian_indian", "sex": "male"}
    record = AnonymousEquityRecord.of(
        pairing.scheme_id, unique, [pairing.relationship], [{"sex": "male"}]
    )
    assert record.demographics == {"ethnicity": WITHHELD, "sex": "male"}
