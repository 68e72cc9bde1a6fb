"""`reporting.equity`: equity of access, by scheme, demographic field and group.

Mentees' demographics are special-category data: they stay in
`reporting.equity_mentees`, which the reporter role cannot read. The `equity`
view counts people, never pairs, and hides every count under 5:
- a row whose numerator or denominator is under 5 is suppressed (its counts and
  rate are null and `suppressed` is true);
- when only one group of a field would be hidden for a metric, the next smallest
  group is hidden too, so the hidden count cannot be had by subtracting the shown
  groups from the scheme's total.
Mentees who did not state a field count in the group `not stated`.

An erased mentee (`Mentee.Erased`) leaves `equity_mentees`: their demographics are
gone from their registration. The anonymous record written with the erasure
(domain.equity_record) takes their place in `equity_anonymous`, unlinked from
their id and their pairs, so that the counts are the same after an erasure, and
after a rebuild, as before it.
"""

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from domain.equity_record import AnonymousEquityRecord
from domain.people import Mentee
from projections.events import STATE_TOPICS, topics
from projections.pairs import PAIR_COLUMNS
from projections.relationships import fold_pairs
from projections.view import (
    Positioned,
    ReportingProjection,
    ReportingView,
    copy_rows,
    create_table_sql,
)

SMALLEST_SHOWN = 5

MENTEE_COLUMNS: dict[str, str] = {
    "mentee_id": "uuid PRIMARY KEY",
    "scheme_id": "uuid NOT NULL",
    "cohort": "text NOT NULL",
    "demographics": "jsonb",
    "registered_at": "timestamptz NOT NULL",
}
ANONYMOUS_COLUMNS: dict[str, str] = {
    "record_id": "uuid PRIMARY KEY",
    "scheme_id": "uuid NOT NULL",
    "demographics": "jsonb",
    "requested": "boolean NOT NULL",
    "matched": "boolean NOT NULL",
    "met": "boolean NOT NULL",
    "no_blame": "boolean NOT NULL",
}
PAIR_FACTS = {
    column: PAIR_COLUMNS[column]
    for column in (
        "id",
        "scheme_id",
        "mentee_id",
        "mentor_id",
        "state",
        "stalled",
        "matched_at",
        "first_meeting_on",
        "ended_at",
        "end_kind",
        "version",
        "updated_at",
        "position",
    )
}

EQUITY_SQL = f"""
WITH
person AS (
    SELECT m.scheme_id, m.mentee_id, m.demographics,
           count(p.id) > 0 AS requested,
           coalesce(bool_or(p.matched_at IS NOT NULL), false) AS matched,
           coalesce(bool_or(p.first_meeting_on IS NOT NULL), false) AS met,
           coalesce(bool_or(p.matched_at IS NOT NULL AND p.end_kind = 'no_blame'), false)
               AS no_blame
    FROM reporting.equity_mentees m
    LEFT JOIN reporting.equity_pairs p ON p.mentee_id = m.mentee_id
    GROUP BY m.scheme_id, m.mentee_id, m.demographics
    UNION ALL
    SELECT scheme_id, record_id, demographics, requested, matched, met, no_blame
    FROM reporting.equity_anonymous
),
field AS (
    SELECT DISTINCT p.scheme_id, f.field
    FROM person p
    CROSS JOIN LATERAL jsonb_object_keys(p.demographics) AS f(field)
    WHERE jsonb_typeof(p.demographics) = 'object'
),
grouped AS (
    SELECT f.scheme_id, f.field,
           coalesce(p.demographics ->> f.field, 'not stated') AS group_name,
           count(*) AS registered,
           count(*) FILTER (WHERE p.requested) AS requested,
           count(*) FILTER (WHERE p.matched) AS matched,
           count(*) FILTER (WHERE p.met) AS met,
           count(*) FILTER (WHERE p.no_blame) AS no_blame
    FROM field f JOIN person p ON p.scheme_id = f.scheme_id
    GROUP BY f.scheme_id, f.field, 3
),
total AS (SELECT scheme_id, count(*) AS registered FROM person GROUP BY scheme_id),
rate AS (
    SELECT g.scheme_id, g.field, g.group_name, v.metric, v.ordinal,
           v.numerator, v.denominator,
           v.numerator < {SMALLEST_SHOWN} OR v.denominator < {SMALLEST_SHOWN} AS small
    FROM grouped g
    JOIN total t ON t.scheme_id = g.scheme_id
    CROSS JOIN LATERAL (VALUES
        ('mentees', g.registered, t.registered, 0),
        ('request_rate', g.requested, g.registered, 1),
        ('match_rate', g.matched, g.requested, 2),
        ('met_mentor_rate', g.met, g.registered, 3),
        ('no_blame_end_mentee_rate', g.no_blame, g.matched, 4)
    ) AS v(metric, numerator, denominator, ordinal)
),
ranked AS (
    SELECT r.*,
           count(*) FILTER (WHERE r.small) OVER same_metric AS small_groups,
           row_number() OVER (
               PARTITION BY r.scheme_id, r.field, r.metric, r.small
               ORDER BY r.denominator, r.numerator, r.group_name
           ) AS rank_by_size
    FROM rate r
    WINDOW same_metric AS (PARTITION BY r.scheme_id, r.field, r.metric)
),
judged AS (
    SELECT ranked.*,
           small OR (small_groups = 1 AND rank_by_size = 1) AS suppressed
    FROM ranked
)
SELECT scheme_id, field, group_name, metric, suppressed,
       CASE WHEN suppressed THEN NULL ELSE numerator END AS numerator,
       CASE WHEN suppressed THEN NULL ELSE denominator END AS denominator,
       CASE WHEN suppressed THEN NULL
            ELSE numerator::float8 / nullif(denominator, 0) END AS value,
       ordinal
FROM judged
"""


class EquityView(ReportingView):
    tables = ("equity_pairs", "equity_mentees", "equity_anonymous")
    ddl = (
        create_table_sql("equity_mentees", MENTEE_COLUMNS),
        create_table_sql("equity_anonymous", ANONYMOUS_COLUMNS),
        "CREATE INDEX IF NOT EXISTS equity_mentees_scheme ON reporting.equity_mentees (scheme_id)",
        create_table_sql("equity_pairs", PAIR_FACTS),
        "CREATE INDEX IF NOT EXISTS equity_pairs_mentee ON reporting.equity_pairs (mentee_id)",
    )
    sql_views = (("equity", EQUITY_SQL),)


class EquityProjection(ReportingProjection):
    name = "equity"
    topics = topics(Mentee.Registered, Mentee.Erased, AnonymousEquityRecord.Recorded) + STATE_TOPICS
    view_class = EquityView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        people = (Mentee.Registered, Mentee.Erased, AnonymousEquityRecord.Recorded)
        registered = [e for e, _ in events if isinstance(e, Mentee.Registered)]
        copy_rows(
            curs,
            "equity_mentees",
            tuple(MENTEE_COLUMNS),
            (
                {"mentee_id": e.originator_id, "registered_at": e.timestamp, **vars(e)}
                for e in registered
            ),
            ("demographics",),
        )
        copy_rows(
            curs,
            "equity_anonymous",
            tuple(ANONYMOUS_COLUMNS),
            (
                {"record_id": e.originator_id, **vars(e)}
                for e, _ in events
                if isinstance(e, AnonymousEquityRecord.Recorded)
            ),
            ("demographics",),
        )
        erased = [e.originator_id for e, _ in events if isinstance(e, Mentee.Erased)]
        if erased:
            # Their pairs stay (a pair's later events still fold into its row), but
            # without their registration they count no more.
            curs.execute(
                "DELETE FROM reporting.equity_mentees WHERE mentee_id = ANY(%s)", (erased,)
            )
        fold_pairs(
            curs,
            "equity_pairs",
            tuple(PAIR_FACTS),
            [(e, p) for e, p in events if not isinstance(e, people)],
        )
