"""Bulk import of a scheme's mentors or mentees from a CSV file, all or nothing.

The file's first row names its columns: the fields `POST /v1/mentors` or
`POST /v1/mentees` take (services.api.schemas.MentorIn, MenteeIn) but the scheme,
which the import is for, and a mentee's demographics, which are special-category
data and are not sent around in spreadsheets. Every other row is one person, read
into the same model the API validates a registration with; a list (interests,
objectives, line_manager_ids) is its items separated by `;`. Rows are numbered as
a spreadsheet numbers them: the header is row 1, the first person row 2.

People are matched by email (any case) within the scheme: a row whose email is new
registers a person; one whose email is known changes what the application lets
change (a mentor's capacity and training date), or nothing when the row says what
the record says. Any error in any row refuses the whole file and saves nothing; so
does a value the import cannot change (a known mentor's specialty, say). The new and
changed people are saved in one atomic write (Mentoring.save_people).
"""

import csv
import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin
from uuid import UUID

from psycopg_pool import ConnectionPool
from pydantic import ValidationError

from domain.actors import Actor
from domain.errors import DomainError
from domain.people import Mentee, Mentor
from services.api.schemas import Body, MenteeIn, MentorIn
from services.application import Mentoring

Kind = Literal["mentors", "mentees"]
B = TypeVar("B", bound=Body)
MODELS: dict[Kind, type[Body]] = {"mentors": MentorIn, "mentees": MenteeIn}
AGGREGATES: dict[Kind, type[Mentor] | type[Mentee]] = {"mentors": Mentor, "mentees": Mentee}
LEFT_OUT = frozenset({"scheme_id", "demographics"})
# What a known person's row may change, and the application command that changes it
# (Mentoring.change_mentor's keywords); every other column must match the record.
CHANGEABLE: dict[Kind, frozenset[str]] = {
    "mentors": frozenset({"capacity", "trained_on"}),
    "mentees": frozenset(),
}
LIST_SEPARATOR = ";"
MAX_ROWS = 5000
HEADER_ROW = 1
_one_at_a_time = threading.Lock()
# The name of the PostgreSQL advisory lock an import holds (its key: hashtext(name)).
IMPORT_LOCK = "people import"

TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})
INTEGER = re.compile(r"[+-]?\d{1,9}")


@dataclass(frozen=True)
class RowError:
    """What is wrong, in which row (header: 1) and column (None: the row or file)."""

    row: int
    column: str | None
    msg: str


@dataclass(frozen=True)
class ImportResult:
    """How many people the file registers, changes and leaves as they were; its errors
    (then nothing is, or was, saved)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class PersonRow:
    """A row read into the registration's fields, and which columns it filled."""

    number: int
    profile: dict[str, Any]
    given: frozenset[str]


def columns(kind: Kind) -> list[str]:
    """The columns a file of `kind` may have, in the registration's order."""
    return [name for name in MODELS[kind].model_fields if name not in LEFT_OUT]


def required_columns(kind: Kind) -> list[str]:
    """The columns every file of `kind` must have."""
    fields = MODELS[kind].model_fields
    return [name for name in columns(kind) if fields[name].is_required()]


def import_people(
    mentoring: Mentoring,
    kind: Kind,
    scheme_id: UUID,
    data: bytes,
    actor: Actor,
    dry_run: bool,
    pool: ConnectionPool | None = None,
) -> ImportResult:
    """Read the file and register or change the people in it, all in one write unless
    `dry_run` or any row is wrong. Raises NotFound for no such scheme, Conflict if
    someone changed one of the people meanwhile. With `pool`, the database's, one
    import runs at a time in every process on that database, else in this one."""
    mentoring.get_scheme(scheme_id)
    rows, errors = read_rows(kind, scheme_id, data)
    if errors:
        return ImportResult(errors=errors)
    # One import at a time, so that two of the same file at once cannot both register
    # a person the other did not see yet: one thread of this process waits for the
    # others' (IMPORT_LOCK) on the database.
    with _one_at_a_time, one_import_at_a_time(pool):
        return _apply(mentoring, kind, scheme_id, rows, actor, dry_run)


@contextmanager
def one_import_at_a_time(pool: ConnectionPool | None) -> Iterator[None]:
    """PostgreSQL's advisory lock IMPORT_LOCK, held on a connection of the pool while
    the block runs (nothing without a pool)."""
    if pool is None:
        yield
        return
    with pool.connection() as connection:
        connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (IMPORT_LOCK,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (IMPORT_LOCK,))


def _apply(
    mentoring: Mentoring,
    kind: Kind,
    scheme_id: UUID,
    rows: list[PersonRow],
    actor: Actor,
    dry_run: bool,
) -> ImportResult:
    """Match each row to the scheme's person with its email and register or change
    them; save them all in one write unless `dry_run` or any row is refused."""
    errors: list[RowError] = []
    known = _known_by_email(mentoring, kind, scheme_id)
    created: list[Mentor | Mentee] = []
    updated: list[Mentor | Mentee] = []
    unchanged = 0
    for row in rows:
        matches = known.get(row.profile["email"].lower(), [])
        if len(matches) > 1:
            errors.append(RowError(row.number, "email", "two people in the scheme have this email"))
        elif matches:
            row_errors = _change(mentoring, kind, matches[0], row, actor)
            errors += row_errors
            if not row_errors and matches[0].pending_events:
                updated.append(matches[0])
            elif not row_errors:
                unchanged += 1
        else:
            person, row_errors = _register(mentoring, kind, row, actor)
            errors += row_errors
            if person is not None:
                created.append(person)
    if errors:
        return ImportResult(errors=errors)
    if not dry_run and (created or updated):
        mentoring.save_people([*created, *updated])
    return ImportResult(len(created), len(updated), unchanged)


def read_rows(kind: Kind, scheme_id: UUID, data: bytes) -> tuple[list[PersonRow], list[RowError]]:
    """The file's people, each validated as the API validates a registration, and
    every error found in it (the header's first: then no row is read)."""
    text, error = _decoded(data)
    if error is not None:
        return [], [error]
    records = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(records, [])]
    errors = _header_errors(kind, header)
    if errors:
        return [], errors
    rows: list[PersonRow] = []
    try:
        for number, cells in enumerate(records, start=HEADER_ROW + 1):
            if not any(cell.strip() for cell in cells):
                continue
            if number > MAX_ROWS + HEADER_ROW:
                return [], [RowError(number, None, f"a file has at most {MAX_ROWS} people")]
            row, row_errors = _read_row(kind, scheme_id, header, number, cells)
            errors += row_errors
            if row is not None:
                rows.append(row)
    except csv.Error as problem:
        return [], [RowError(records.line_num, None, f"the file is not valid CSV: {problem}")]
    return rows, errors + _repeated_emails(rows)


def _decoded(data: bytes) -> tuple[str, RowError | None]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        row = data[: problem.start].count(b"\n") + 1
        return "", RowError(row, None, "the file is not UTF-8 text: save it as CSV UTF-8")
    if not text.strip():
        return "", RowError(HEADER_ROW, None, "the file is empty: its first row names the columns")
    return text, None


def _header_errors(kind: Kind, header: list[str]) -> list[RowError]:
    allowed = columns(kind)
    errors = [
        RowError(HEADER_ROW, name or None, f"unknown column {name!r}")
        for name in header
        if name not in allowed
    ]
    errors += [
        RowError(HEADER_ROW, name, f"the column {name!r} appears more than once")
        for name in sorted({name for name in header if header.count(name) > 1})
    ]
    errors += [
        RowError(HEADER_ROW, name, f"the required column {name!r} is missing")
        for name in required_columns(kind)
        if name not in header
    ]
    return errors


def _read_row(
    kind: Kind, scheme_id: UUID, header: list[str], number: int, cells: list[str]
) -> tuple[PersonRow | None, list[RowError]]:
    if len(cells) != len(header):
        message = f"the row has {len(cells)} cells; the header names {len(header)} columns"
        return None, [RowError(number, None, message)]
    person, errors = read_fields(
        MODELS[kind], dict(zip(header, cells, strict=True)), scheme_id=scheme_id
    )
    if person is None:
        return None, [RowError(number, column, msg) for column, msg in errors]
    given = frozenset(person.model_fields_set - {"scheme_id"})
    return PersonRow(number, person.model_dump(), given), []


def read_fields(
    model: type[B], texts: Mapping[str, str], **fixed: Any
) -> tuple[B | None, list[tuple[str | None, str]]]:
    """A request body from text typed or imported (cells of a row, fields of a form),
    besides the `fixed` values: each text read as its field takes it (`_cell_reader`),
    an empty one left out. The body, or None and each error as (field, message)."""
    values = {
        name: _cell_reader(model, name)(text.strip())
        for name, text in texts.items()
        if text.strip() and name in model.model_fields
    }
    try:
        return model.model_validate(values | fixed), []
    except ValidationError as invalid:
        return None, [_field_error(error) for error in invalid.errors()]


def _field_error(error: Any) -> tuple[str | None, str]:
    loc = error.get("loc", ())
    column = str(loc[0]) if loc else None
    if error["type"] == "missing":
        return column, "a value is required"
    if column == "email" and error["type"] == "string_pattern_mismatch":
        return column, "not an email address"
    return column, str(error["msg"])


def _cell_reader(model: type[Body], name: str) -> Callable[[str], Any]:
    """How a cell becomes the value the field takes: a list split at `;`, a number,
    a yes or no; any other text as it is (dates, ids and words the model parses). A
    cell that is none of these is passed on as text, for the model to refuse."""
    annotation = model.model_fields[name].annotation
    if get_origin(annotation) in (Union, type(int | None)):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is list:
        return _items
    if annotation is bool:
        return _yes_or_no
    if annotation is int:
        return _number
    return str


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


def _yes_or_no(text: str) -> bool | str:
    if text.lower() in TRUE_WORDS:
        return True
    if text.lower() in FALSE_WORDS:
        return False
    return text


def _number(text: str) -> int | str:
    return int(text) if INTEGER.fullmatch(text) else text


def _repeated_emails(rows: list[PersonRow]) -> list[RowError]:
    first: dict[str, int] = {}
    errors = []
    for row in rows:
        email = row.profile["email"].lower()
        if email in first:
            message = f"the same email as row {first[email]}: one row per person"
            errors.append(RowError(row.number, "email", message))
        else:
            first[email] = row.number
    return errors


def _known_by_email(
    mentoring: Mentoring, kind: Kind, scheme_id: UUID
) -> dict[str, list[Mentor | Mentee]]:
    known: dict[str, list[Mentor | Mentee]] = {}
    for person in people_of(mentoring, kind, scheme_id):
        known.setdefault(person.email.lower(), []).append(person)
    return known


def people_of(mentoring: Mentoring, kind: Kind, scheme_id: UUID) -> Iterator[Mentor | Mentee]:
    """The scheme's mentors or mentees, in the order they registered."""
    for _, person in mentoring.all_of(AGGREGATES[kind]):
        if person.scheme_id == scheme_id:
            yield person


def _register(
    mentoring: Mentoring, kind: Kind, row: PersonRow, actor: Actor
) -> tuple[Mentor | Mentee | None, list[RowError]]:
    try:
        if kind == "mentors":
            return mentoring.new_mentor(row.profile, actor), []
        return mentoring.new_mentee(row.profile, actor), []
    except DomainError as refused:
        return None, [RowError(row.number, _column_named(refused, row), str(refused))]


def _change(
    mentoring: Mentoring, kind: Kind, person: Mentor | Mentee, row: PersonRow, actor: Actor
) -> list[RowError]:
    """Apply the row's changes to a known person (not saved); the columns it would
    change that the import cannot."""
    errors = [
        RowError(
            row.number,
            name,
            f"differs from the record of the person with this email ({getattr(person, name)!r});"
            " the import does not change it",
        )
        for name in sorted(row.given - CHANGEABLE[kind] - {"email"})
        if getattr(person, name) != row.profile[name]
    ]
    if errors or not isinstance(person, Mentor):
        return errors
    changes = {name: row.profile[name] for name in row.given & CHANGEABLE[kind]}
    try:
        mentoring.change_mentor(person, actor, **changes)
    except DomainError as refused:
        return [RowError(row.number, _column_named(refused, row), str(refused))]
    return []


def _column_named(refused: DomainError, row: PersonRow) -> str | None:
    return field_named(refused, row.profile)


def field_named(refused: DomainError, fields: Iterable[str]) -> str | None:
    """The field a domain refusal is about: the one of `fields` its message names (the
    domain names the field it refuses, domain.bounds), if any."""
    message = str(refused)
    named = [name for name in fields if re.search(rf"\b{name}\b", message)]
    return named[0] if named else None
