"""Reading a coordinator's CSV file of mentors or mentees: rows as the API's own
registration models read them, and every kind of error named by row and column."""

from datetime import date
from uuid import UUID, uuid4

import pytest

from services.api.schemas import MentorPatch
from services.people_import import (
    MAX_ROWS,
    RowError,
    columns,
    read_fields,
    read_rows,
    required_columns,
)

SCHEME = uuid4()
MENTORS = "name,email,grade,specialty,institution,interests,capacity,trained_on\n"
MENTEES = (
    "cohort,name,email,grade,specialty,specialty_decided,institution,interests,"
    "objectives,line_manager_ids\n"
)


def mentors(*rows: str) -> bytes:
    return (MENTORS + "".join(f"{row}\n" for row in rows)).encode()


def test_the_columns_are_the_registrations_fields_but_the_scheme_and_demographics() -> None:
    assert columns("mentors") == MENTORS.strip().split(",")
    assert columns("mentees") == MENTEES.strip().split(",")
    assert required_columns("mentors") == ["name", "email", "grade", "specialty", "institution"]
    assert "specialty_decided" in required_columns("mentees")


def test_a_good_file_reads_each_row_as_the_registration_would() -> None:
    rows, errors = read_rows(
        "mentors",
        SCHEME,
        mentors(
            "Dr Ada Shah,ada@example.nhs.uk,ST5,Cardiology,Leeds,teaching; research ,2,2025-01-31",
            "Dr Ben Ito,ben@example.nhs.uk,Consultant,Surgery,York,,,",
        ),
    )
    assert errors == []
    assert [row.number for row in rows] == [2, 3]
    assert rows[0].profile["interests"] == ["teaching", "research"]
    assert rows[0].profile["capacity"] == 2
    assert rows[0].profile["trained_on"] == date(2025, 1, 31)
    assert rows[0].profile["scheme_id"] == SCHEME
    # Empty cells are left out: the registration's defaults, and not "given".
    assert rows[1].profile["capacity"] == 1
    assert "capacity" not in rows[1].given and "capacity" in rows[0].given


def test_mentee_lists_yes_or_no_and_ids_are_read() -> None:
    manager = uuid4()
    data = (
        MENTEES
        + f"2026,Dr Cy Obi,cy@example.nhs.uk,FY2,GP,yes,Hull,rural,pass MRCP;balance,{manager}\n"
    ).encode()
    rows, errors = read_rows("mentees", SCHEME, data)
    assert errors == []
    assert rows[0].profile["specialty_decided"] is True
    assert rows[0].profile["objectives"] == ["pass MRCP", "balance"]
    assert rows[0].profile["line_manager_ids"] == [UUID(str(manager))]


def test_a_byte_order_mark_and_windows_line_ends_are_read_as_excel_writes_them() -> None:
    data = b"\xef\xbb\xbf" + mentors("Dr A,a@example.nhs.uk,ST3,GP,Leeds,,,").replace(
        b"\n", b"\r\n"
    )
    rows, errors = read_rows("mentors", SCHEME, data)
    assert errors == [] and len(rows) == 1


def test_every_wrong_cell_of_every_row_is_named_by_row_and_column() -> None:
    _, errors = read_rows(
        "mentors",
        SCHEME,
        mentors(
            "Dr A,a@example.nhs.uk,ST3,GP,Leeds,,two,",
            "Dr B,not-an-email,ST3,GP,Leeds,,,next tuesday",
            ",c@example.nhs.uk,ST3,GP,Leeds,,21,",
        ),
    )
    found = {(e.row, e.column) for e in errors}
    assert found == {(2, "capacity"), (3, "email"), (3, "trained_on"), (4, "name"), (4, "capacity")}
    assert RowError(3, "email", "not an email address") in errors
    assert RowError(4, "name", "a value is required") in errors


def test_a_yes_or_no_column_refuses_other_words() -> None:
    data = (MENTEES + "2026,Dr C,c@example.nhs.uk,FY2,GP,maybe,Hull,,,\n").encode()
    _, errors = read_rows("mentees", SCHEME, data)
    assert [(e.row, e.column) for e in errors] == [(2, "specialty_decided")]


def test_the_same_email_twice_in_a_file_is_refused_at_the_second_row() -> None:
    _, errors = read_rows(
        "mentors",
        SCHEME,
        mentors(
            "Dr A,a@example.nhs.uk,ST3,GP,Leeds,,,",
            "Dr B,b@example.nhs.uk,ST3,GP,Leeds,,,",
            "Dr A again,A@Example.NHS.uk,ST3,GP,Leeds,,,",
        ),
    )
    assert errors == [RowError(4, "email", "the same email as row 2: one row per person")]


def test_an_unknown_a_repeated_and_a_missing_column_are_named_in_the_header() -> None:
    data = b"name,email,email,grade,specialty,favourite_colour\nDr A,a@x.uk,a@x.uk,ST3,GP,blue\n"
    rows, errors = read_rows("mentors", SCHEME, data)
    assert rows == []
    assert {(e.row, e.column, e.msg) for e in errors} == {
        (1, "favourite_colour", "unknown column 'favourite_colour'"),
        (1, "email", "the column 'email' appears more than once"),
        (1, "institution", "the required column 'institution' is missing"),
    }


def test_the_scheme_and_demographics_are_not_columns() -> None:
    data = b"scheme_id,name,email,grade,specialty,institution\n"
    _, errors = read_rows("mentors", SCHEME, data)
    assert errors == [RowError(1, "scheme_id", "unknown column 'scheme_id'")]
    data = MENTEES.strip().encode() + b",demographics\n"
    _, errors = read_rows("mentees", SCHEME, data)
    assert errors == [RowError(1, "demographics", "unknown column 'demographics'")]


def test_a_file_that_is_not_utf8_is_refused_at_the_row_of_its_first_bad_byte() -> None:
    data = mentors(
        "Dr A,a@example.nhs.uk,ST3,GP,Leeds,,,", "Dr Zo\xeb,z@example.nhs.uk,ST3,GP,Leeds,,,"
    )
    latin = data.decode().encode("latin-1")
    rows, errors = read_rows("mentors", SCHEME, latin)
    assert rows == []
    assert errors == [RowError(3, None, "the file is not UTF-8 text: save it as CSV UTF-8")]


@pytest.mark.parametrize("data", [b"", b"  \n\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    _, errors = read_rows("mentors", SCHEME, data)
    assert errors == [RowError(1, None, "the file is empty: its first row names the columns")]


def test_a_row_with_too_few_or_too_many_cells_is_refused_and_blank_rows_skipped() -> None:
    data = mentors("Dr A,a@example.nhs.uk,ST3", "", "Dr B,b@example.nhs.uk,ST3,GP,Leeds,,,,extra")
    rows, errors = read_rows("mentors", SCHEME, data)
    assert rows == []
    assert [(e.row, e.column) for e in errors] == [(2, None), (4, None)]
    assert errors[0].msg == "the row has 3 cells; the header names 8 columns"


def test_a_nul_character_is_refused() -> None:
    _, errors = read_rows("mentors", SCHEME, mentors("Dr \x00A,a@example.nhs.uk,ST3,GP,Leeds,,,"))
    assert [(e.row, e.column) for e in errors] == [(2, None)]
    assert "NUL" in errors[0].msg


def test_a_file_of_more_people_than_the_limit_is_refused() -> None:
    data = mentors(*[f"Dr {n},p{n}@example.nhs.uk,ST3,GP,Leeds,,," for n in range(MAX_ROWS + 1)])
    rows, errors = read_rows("mentors", SCHEME, data)
    assert rows == []
    assert errors == [RowError(MAX_ROWS + 2, None, f"a file has at most {MAX_ROWS} people")]


def test_a_quote_left_open_is_not_valid_csv() -> None:
    data = mentors('Dr A,a@example.nhs.uk,ST3,GP,"Leeds,,,')
    rows, errors = read_rows("mentors", SCHEME, data)
    assert rows == [] and len(errors) == 1


def test_a_form_is_read_into_the_apis_own_body_as_a_row_is() -> None:
    changes, errors = read_fields(
        MentorPatch, {"capacity": " 3 ", "available": "no", "trained_on": "", "other": "x"}
    )
    assert errors == []
    assert changes is not None
    assert changes.model_dump(exclude_none=True) == {"capacity": 3, "available": False}
    refused, errors = read_fields(MentorPatch, {"capacity": "21", "available": "perhaps"})
    assert refused is None
    assert [field for field, _ in errors] == ["capacity", "available"]
