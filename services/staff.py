"""Staff accounts: the admins, coordinators, reporters and auditors who sign in to
the pages. Mentors and mentees have no account here: they sign in as the person
whose profile has their email.

An email belongs to at most one account (compared without case). Deactivating an
account keeps it, so that the record of who held which role stays whole.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.errors import InvalidValue

StaffRole = Literal["admin", "coordinator", "reporter", "auditor"]
STAFF_ROLES: tuple[StaffRole, ...] = ("admin", "coordinator", "reporter", "auditor")

STAFF_TABLE = """
CREATE TABLE IF NOT EXISTS staff_accounts (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    role text NOT NULL,
    scheme_ids jsonb NOT NULL DEFAULT '[]',
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS staff_accounts_email ON staff_accounts (lower(email));
"""

COLUMNS = "id, name, email, role, scheme_ids, active, created_at, updated_at"


class EmailTaken(Exception):
    """Another account already has this email."""


@dataclass(frozen=True)
class StaffAccount:
    id: UUID
    name: str
    email: str
    role: StaffRole
    scheme_ids: tuple[UUID, ...]
    active: bool
    created_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "scheme_ids": [str(s) for s in self.scheme_ids],
            "active": self.active,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "updated_at": self.updated_at.astimezone(UTC).isoformat(),
        }


class StaffStore:
    """Staff accounts in the `staff_accounts` table (created if missing)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        with pool.connection() as connection, connection.transaction():
            connection.execute(STAFF_TABLE)

    def add(
        self, name: str, email: str, role: StaffRole, scheme_ids: tuple[UUID, ...] = ()
    ) -> StaffAccount:
        """A new active account. Raises InvalidValue for a coordinator without schemes
        or schemes on another role, EmailTaken if the email has an account."""
        _check_schemes(role, scheme_ids)
        now = datetime.now(UTC)
        with self.pool.connection() as connection:
            row = connection.execute(
                f"INSERT INTO staff_accounts ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, true, %s, %s)"
                " ON CONFLICT DO NOTHING RETURNING id",
                (uuid.uuid4(), name, email, role, Jsonb(_ids(scheme_ids)), now, now),
            ).fetchone()
        if row is None:
            raise EmailTaken(email)
        account = self.get(row[0])
        assert account is not None
        return account

    def get(self, account_id: UUID) -> StaffAccount | None:
        return self._one("id = %s", account_id)

    def active_by_email(self, email: str) -> StaffAccount | None:
        """The active account with this email (any case), or None."""
        return self._one("lower(email) = lower(%s) AND active", email)

    def accounts(self) -> list[StaffAccount]:
        """Every account, active or not, oldest first."""
        return self._many("true ORDER BY created_at, id")

    def coordinators_of(self, scheme_id: UUID) -> list[StaffAccount]:
        """The active coordinators of a scheme: who hears of its escalations."""
        return self._many(
            "active AND role = 'coordinator' AND scheme_ids ? %s ORDER BY created_at, id",
            str(scheme_id),
        )

    def update(
        self,
        account_id: UUID,
        *,
        role: StaffRole | None = None,
        scheme_ids: tuple[UUID, ...] | None = None,
        active: bool | None = None,
    ) -> StaffAccount | None:
        """The account with the fields given changed, or None if there is none.
        Raises InvalidValue when the role and schemes that result do not fit."""
        with self.pool.connection() as connection, connection.transaction():
            current = self._one("id = %s FOR UPDATE", account_id, connection=connection)
            if current is None:
                return None
            new_role = role or current.role
            new_schemes = current.scheme_ids if scheme_ids is None else scheme_ids
            if role is not None and role != "coordinator" and scheme_ids is None:
                new_schemes = ()
            _check_schemes(new_role, new_schemes)
            connection.execute(
                "UPDATE staff_accounts SET role = %s, scheme_ids = %s, active = %s,"
                " updated_at = %s WHERE id = %s",
                (
                    new_role,
                    Jsonb(_ids(new_schemes)),
                    current.active if active is None else active,
                    datetime.now(UTC),
                    account_id,
                ),
            )
        return self.get(account_id)

    def _one(self, where: str, *params: object, connection: Any = None) -> StaffAccount | None:
        if connection is not None:
            row = (
                connection.cursor(row_factory=dict_row)
                .execute(f"SELECT {COLUMNS} FROM staff_accounts WHERE {where}", params)
                .fetchone()
            )
            return None if row is None else _account(row)
        with self.pool.connection() as own:
            return self._one(where, *params, connection=own)

    def _many(self, where: str, *params: object) -> list[StaffAccount]:
        with self.pool.connection() as connection:
            rows = (
                connection.cursor(row_factory=dict_row)
                .execute(f"SELECT {COLUMNS} FROM staff_accounts WHERE {where}", params)
                .fetchall()
            )
        return [_account(row) for row in rows]


def _check_schemes(role: str, scheme_ids: tuple[UUID, ...]) -> None:
    if role not in STAFF_ROLES:
        raise InvalidValue(f"unknown staff role {role!r}; one of {', '.join(STAFF_ROLES)}")
    if role == "coordinator" and not scheme_ids:
        raise InvalidValue("a coordinator needs at least one scheme")
    if role != "coordinator" and scheme_ids:
        raise InvalidValue(f"an account with the {role} role covers every scheme; give no schemes")


def _ids(scheme_ids: tuple[UUID, ...]) -> list[str]:
    return sorted({str(s) for s in scheme_ids})


def _account(row: dict[str, Any]) -> StaffAccount:
    return StaffAccount(**row | {"scheme_ids": tuple(UUID(s) for s in row["scheme_ids"])})
