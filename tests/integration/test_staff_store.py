"""Staff accounts on PostgreSQL: one account per email whatever its case, a
coordinator covers named schemes, and a deactivated account signs in no more but
stays on the list."""

from collections.abc import Iterator
from uuid import uuid4

import pytest
from psycopg_pool import ConnectionPool

from domain.errors import InvalidValue
from services.staff import EmailTaken, StaffStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def staff(database_url: str) -> Iterator[StaffStore]:
    with ConnectionPool(database_url, min_size=1, kwargs={"autocommit": True}) as pool:
        yield StaffStore(pool)


def test_an_email_has_one_account_whatever_its_case(staff: StaffStore) -> None:
    staff.add("Ada Lovelace", "ada@nhs.net", "reporter")
    with pytest.raises(EmailTaken):
        staff.add("Ada L", "ADA@nhs.net", "auditor")
    found = staff.active_by_email("Ada@NHS.net")
    assert found is not None and found.name == "Ada Lovelace"


def test_the_coordinators_of_a_scheme_are_its_active_coordinators(staff: StaffStore) -> None:
    north, south = uuid4(), uuid4()
    first = staff.add("First", "first@nhs.net", "coordinator", (north,))
    staff.add("Second", "second@nhs.net", "coordinator", (south,))
    both = staff.add("Both", "both@nhs.net", "coordinator", (north, south))
    staff.add("Lead", "lead@nhs.net", "admin")
    assert [a.name for a in staff.coordinators_of(north)] == ["First", "Both"]

    staff.update(first.id, active=False)
    assert [a.name for a in staff.coordinators_of(north)] == ["Both"]
    assert staff.active_by_email("first@nhs.net") is None
    assert len(staff.accounts()) == 4
    changed = staff.update(both.id, role="reporter")
    assert changed is not None and changed.scheme_ids == ()
    assert [a.name for a in staff.coordinators_of(south)] == ["Second"]


def test_roles_and_schemes_must_fit(staff: StaffStore) -> None:
    with pytest.raises(InvalidValue, match="at least one scheme"):
        staff.add("C", "c@nhs.net", "coordinator")
    with pytest.raises(InvalidValue, match="every scheme"):
        staff.add("R", "r@nhs.net", "reporter", (uuid4(),))
    with pytest.raises(InvalidValue, match="unknown staff role"):
        staff.add("M", "m@nhs.net", "mentor")  # type: ignore[arg-type]
    account = staff.add("A", "a@nhs.net", "auditor")
    with pytest.raises(InvalidValue):
        staff.update(account.id, role="coordinator")
    assert staff.update(uuid4(), active=False) is None
    assert staff.accounts()[0].role == "auditor"
