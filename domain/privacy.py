"""Which recorded fields are personal, special-category or sealed.

Every aggregate's events derive from `Classified`, and each event class that records
such fields names them next to their declaration (`Mentee.Registered`,
`Relationship.Ended`, ...). The audit log, the reports and the API read this one
classification through `personal_fields` and `sealed_fields`.
"""

from typing import ClassVar

# What a personal field reads as once its person is erased (services.keys): text
# fields read so, lists and objects read empty.
ERASED = "erased"


class Classified:
    """The classification of an event class's fields, by field name.

    - `PERSONAL_FIELDS` identify or describe a person (names, emails, a mentee's
      own objectives, why a pair paused, survey answers): never in the audit log's
      details;
    - `PSEUDONYMOUS_FIELDS` describe a pairing through ids only (survey answers:
      yes/no and 1-5 scores to the scheme's own questions): personal like the
      above (never in the audit log's details, nor in the other party's export),
      but not encrypted under a person's key, so that an erasure leaves the
      evaluation counts whole through any rebuild (docs/data-protection-erasure.md);
    - `SPECIAL_CATEGORY_FIELDS` are personal data of the special categories of UK
      GDPR Article 9 (demographics, kept for equity monitoring only);
    - `SEALED_FIELDS` only auditors see (who ended a pairing without blame, and
      why). `actor` may be one of them: then who caused the event is sealed.
    """

    PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset()
    PSEUDONYMOUS_FIELDS: ClassVar[frozenset[str]] = frozenset()
    SPECIAL_CATEGORY_FIELDS: ClassVar[frozenset[str]] = frozenset()
    SEALED_FIELDS: ClassVar[frozenset[str]] = frozenset()


def personal_fields(event: object) -> frozenset[str]:
    """The personal fields, special categories and pseudonymous ones included, of an
    event or event class."""
    return keyed_fields(event) | _fields(event, "PSEUDONYMOUS_FIELDS")


def keyed_fields(event: object) -> frozenset[str]:
    """The personal fields of an event or event class that are encrypted under their
    subject's key (services.keys): all but the pseudonymous ones."""
    return _fields(event, "PERSONAL_FIELDS") | _fields(event, "SPECIAL_CATEGORY_FIELDS")


def special_category_fields(event: object) -> frozenset[str]:
    """The special-category fields of an event or event class."""
    return _fields(event, "SPECIAL_CATEGORY_FIELDS")


def sealed_fields(event: object) -> frozenset[str]:
    """The sealed fields of an event or event class (none for an unclassified one)."""
    return _fields(event, "SEALED_FIELDS")


def _fields(event: object, kind: str) -> frozenset[str]:
    fields: frozenset[str] = getattr(event, kind, frozenset())
    return fields
