"""The `reporting` schema and the read-only reporter database role.

The reporter role may read every table and view of `reporting` except:
- sealed columns (`SEALED_COLUMNS`: who ended a relationship without blame, and
  why), which only auditors see, through the API;
- tables of personal data (`PRIVATE_TABLES`: mentees' demographics, which it sees
  only as the small-number-suppressed `equity` view; mentors' names and emails;
  why a relationship is paused).

Grants are per table, and a rebuild drops and recreates tables, so the roles
granted are remembered in `reporting.reader_roles` and every view re-applies the
grants after creating its tables.
"""

from typing import Any

import psycopg
from psycopg import Cursor
from psycopg.sql import SQL, Identifier

SCHEMA = "reporting"
READER_ROLES = "reader_roles"
SEALED_COLUMNS: dict[str, frozenset[str]] = {"audit_log": frozenset({"sealed"})}
PRIVATE_TABLES = frozenset(
    {"equity_mentees", "equity_anonymous", "mentor_profiles", "relationship_pauses", READER_ROLES}
)


def create_reporter_role(
    connection: psycopg.Connection[Any], role: str = "reporter", password: str | None = None
) -> None:
    """Create (if missing) a read-only role and grant it read access to `reporting`.

    Without a password the role cannot log in: grant it to login roles
    (`GRANT reporter TO alice`). Needs CREATEROLE; commits on `connection`.
    """
    with connection.transaction(), connection.cursor() as curs:
        curs.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        if curs.fetchone() is None:
            curs.execute(SQL("CREATE ROLE {0} NOLOGIN").format(Identifier(role)))
        if password is not None:
            curs.execute(
                SQL("ALTER ROLE {0} LOGIN PASSWORD {1}").format(
                    Identifier(role), psycopg.sql.Literal(password)
                )
            )
        for setting in ("default_transaction_read_only = on", "jit = off"):
            curs.execute(SQL("ALTER ROLE {0} SET " + setting).format(Identifier(role)))
        curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(SCHEMA)))
        curs.execute(
            SQL("CREATE TABLE IF NOT EXISTS {0} (role name PRIMARY KEY)").format(
                Identifier(SCHEMA, READER_ROLES)
            )
        )
        curs.execute(
            SQL("INSERT INTO {0} VALUES (%s) ON CONFLICT DO NOTHING").format(
                Identifier(SCHEMA, READER_ROLES)
            ),
            (role,),
        )
        grant_read(curs, role)


def drop_reporter_role(connection: psycopg.Connection[Any], role: str) -> None:
    """Revoke the role's grants in this database, forget it, and drop it."""
    with connection.transaction(), connection.cursor() as curs:
        curs.execute(
            SQL("DELETE FROM {0} WHERE role = %s").format(Identifier(SCHEMA, READER_ROLES)),
            (role,),
        )
        curs.execute(SQL("DROP OWNED BY {0}").format(Identifier(role)))
        curs.execute(SQL("DROP ROLE {0}").format(Identifier(role)))


def apply_reader_grants(curs: Cursor[Any]) -> None:
    """Grant read access to every remembered reader role (after tables were created)."""
    curs.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (f"{SCHEMA}.{READER_ROLES}",))
    row = curs.fetchone()
    if row is None or not _first(row):
        return
    curs.execute(
        SQL("SELECT r.role FROM {0} r JOIN pg_roles p ON p.rolname = r.role").format(
            Identifier(SCHEMA, READER_ROLES)
        )
    )
    for role_row in curs.fetchall():
        grant_read(curs, str(_first(role_row)))


def grant_read(curs: Cursor[Any], role: str) -> None:
    """Grant SELECT on `reporting`'s relations to `role`, minus sealed columns and
    private tables."""
    grantee = Identifier(role)
    curs.execute(SQL("GRANT USAGE ON SCHEMA {0} TO {1}").format(Identifier(SCHEMA), grantee))
    curs.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p') ORDER BY c.relname",
        (SCHEMA,),
    )
    for relation_row in curs.fetchall():
        name = str(_first(relation_row))
        relation = Identifier(SCHEMA, name)
        curs.execute(SQL("REVOKE ALL ON {0} FROM {1}").format(relation, grantee))
        if name in PRIVATE_TABLES:
            continue
        sealed = SEALED_COLUMNS.get(name)
        if sealed is None:
            curs.execute(SQL("GRANT SELECT ON {0} TO {1}").format(relation, grantee))
            continue
        curs.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (f"{SCHEMA}.{name}",),
        )
        columns = [str(_first(c)) for c in curs.fetchall() if _first(c) not in sealed]
        curs.execute(
            SQL("GRANT SELECT ({0}) ON {1} TO {2}").format(
                SQL(", ").join(Identifier(c) for c in columns), relation, grantee
            )
        )


def _first(row: Any) -> Any:
    """The first value of a tuple row or a dict row (the datastore uses dict rows)."""
    return next(iter(row.values())) if isinstance(row, dict) else row[0]
