"""The SQL views `reporting.evaluation` and `reporting.evaluation_objectives`, computed
from the evaluation facts tables. Metric definitions are in docs/data-dictionary.md.

`cohort IS NULL` rows are the whole scheme (all cohorts together).
"""

# (scheme_id, cohort) pairs to report: every defined cohort, every cohort with
# mentees, and the whole scheme.
_KEYS = """
cohort AS (
    SELECT s.scheme_id, c.name AS cohort, c.eligible_count
    FROM reporting.evaluation_schemes s
    CROSS JOIN LATERAL jsonb_to_recordset(s.cohorts) AS c(name text, eligible_count integer)
),
keys AS (
    SELECT scheme_id, cohort FROM cohort
    UNION SELECT scheme_id, cohort FROM reporting.evaluation_mentees
    UNION SELECT scheme_id, NULL::text FROM reporting.evaluation_schemes
)"""

_BY_COHORT = "GROUP BY GROUPING SETS ((scheme_id, cohort), (scheme_id))"


def _same_key(alias: str, key: str = "k") -> str:
    return (
        f"{alias}.scheme_id = {key}.scheme_id AND {alias}.cohort IS NOT DISTINCT FROM {key}.cohort"
    )


def _rate(numerator: str, denominator: str) -> str:
    return f"({numerator})::float8 / nullif({denominator}, 0)"


# Every survey answer given: a pair's feedback (answered as its mentee or mentor,
# counted in the mentee's cohort) and a survey round's (a mentee's in their cohort,
# a mentor's in the round's). `person_id` is who answered.
_GIVEN = """
given AS (
    SELECT a.scheme_id, m.cohort, a.question_id, a.stage, a.respondent, a.positive,
           CASE a.respondent WHEN 'mentee' THEN a.mentee_id ELSE p.mentor_id END AS person_id,
           a.answered_at
    FROM reporting.evaluation_answers a
    JOIN reporting.evaluation_mentees m ON m.mentee_id = a.mentee_id
    LEFT JOIN reporting.evaluation_pairs p ON p.id = a.relationship_id
    UNION ALL
    SELECT r.scheme_id, coalesce(m.cohort, sr.cohort), r.question_id, r.stage, r.respondent,
           r.positive, r.person_id, r.answered_at
    FROM reporting.evaluation_round_answers r
    JOIN reporting.evaluation_survey_rounds sr ON sr.round_id = r.round_id
    LEFT JOIN reporting.evaluation_mentees m ON m.mentee_id = r.person_id
)"""

# Each question of the scheme's survey at each stage, and any answered.
_QUESTIONS = """
    SELECT s.scheme_id, q.id AS question_id, q.audience, st.stage
    FROM reporting.evaluation_schemes s
    CROSS JOIN LATERAL jsonb_to_recordset(s.survey) AS q(id text, audience text, stages jsonb)
    CROSS JOIN LATERAL jsonb_array_elements_text(q.stages) AS st(stage)
    UNION
    SELECT scheme_id, question_id, respondent, stage FROM given
"""

_MODES = ("in_person", "video", "phone", "email", "other")

_METRICS = [
    ("mentees_registered", "t.registered", "NULL", "t.registered::float8"),
    ("uptake_rate", "t.registered", "e.eligible", _rate("t.registered", "e.eligible")),
    ("specialty_decided_rate", "t.decided", "t.registered", _rate("t.decided", "t.registered")),
    ("match_rate", "t.matched", "t.requested", _rate("t.matched", "t.requested")),
    ("met_mentor_rate", "t.met", "t.registered", _rate("t.met", "t.registered")),
    ("median_days_to_match", "NULL", "r.first_matches", "r.median_days_to_match"),
    ("median_days_to_first_meeting", "NULL", "r.met", "r.median_days_to_first_meeting"),
    (
        "meetings_per_pair_year",
        "r.meetings",
        "round(r.pair_years, 4)",
        _rate("r.meetings", "r.pair_years"),
    ),
    *[
        (f"meetings_mode:{mode}", f"r.{mode}", "r.meetings", _rate(f"r.{mode}", "r.meetings"))
        for mode in _MODES
    ],
    ("no_blame_end_rate", "r.no_blame", "r.formed", _rate("r.no_blame", "r.formed")),
    ("rematch_rate", "r.rematched", "r.ended_early", _rate("r.rematched", "r.ended_early")),
    ("median_days_to_rematch", "NULL", "r.rematches", "r.median_days_to_rematch"),
    ("mentor_acceptance_rate", "r.accepted", "r.answered", _rate("r.accepted", "r.answered")),
]

_METRIC_ROWS = ",\n        ".join(
    f"('{name}', {numerator}, {denominator}, {value}, {ordinal})"
    for ordinal, (name, numerator, denominator, value) in enumerate(_METRICS)
)

EVALUATION_SQL = f"""
WITH
{_KEYS},
mentee AS (
    SELECT m.scheme_id, m.cohort, m.mentee_id, m.specialty_decided,
           count(p.id) > 0 AS requested,
           coalesce(bool_or(p.matched_at IS NOT NULL), false) AS matched,
           coalesce(bool_or(p.first_meeting_on IS NOT NULL), false) AS met
    FROM reporting.evaluation_mentees m
    LEFT JOIN reporting.evaluation_pairs p ON p.mentee_id = m.mentee_id
    GROUP BY m.scheme_id, m.cohort, m.mentee_id, m.specialty_decided
),
pair AS (
    SELECT p.*, m.cohort,
           extract(epoch FROM p.matched_at - p.requested_at) / 86400 AS days_to_match,
           p.first_meeting_on - (p.matched_at AT TIME ZONE 'UTC')::date AS days_to_first_meeting,
           (coalesce((p.ended_at AT TIME ZONE 'UTC')::date, current_date) - p.first_meeting_on)
               / 365.25 AS years_met,
           extract(epoch FROM p.matched_at - o.ended_at) / 86400 AS days_to_rematch
    FROM reporting.evaluation_pairs p
    JOIN reporting.evaluation_mentees m ON m.mentee_id = p.mentee_id
    LEFT JOIN reporting.evaluation_pairs o ON o.id = p.rematch_of
),
eligible AS (
    SELECT scheme_id, cohort, sum(eligible_count) AS eligible FROM cohort {_BY_COHORT}
),
mentees AS (
    SELECT scheme_id, cohort, count(*) AS registered,
           count(*) FILTER (WHERE specialty_decided) AS decided,
           count(*) FILTER (WHERE requested) AS requested,
           count(*) FILTER (WHERE matched) AS matched,
           count(*) FILTER (WHERE met) AS met
    FROM mentee {_BY_COHORT}
),
pairs AS (
    SELECT scheme_id, cohort,
        count(*) FILTER (WHERE matched_at IS NOT NULL) AS formed,
        count(*) FILTER (WHERE rematch_of IS NULL AND matched_at IS NOT NULL) AS first_matches,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_match)
            FILTER (WHERE rematch_of IS NULL AND matched_at IS NOT NULL) AS median_days_to_match,
        count(*) FILTER (WHERE first_meeting_on IS NOT NULL) AS met,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_first_meeting)
            FILTER (WHERE first_meeting_on IS NOT NULL) AS median_days_to_first_meeting,
        coalesce(sum(meetings_count), 0) AS meetings,
        sum(years_met) AS pair_years,
        {", ".join(f"coalesce(sum(meetings_{m}), 0) AS {m}" for m in _MODES)},
        count(*) FILTER (WHERE matched_at IS NOT NULL AND end_kind = 'no_blame') AS no_blame,
        count(*) FILTER (WHERE end_kind IN ('no_blame', 'withdrawn')) AS ended_early,
        count(*) FILTER (
            WHERE end_kind IN ('no_blame', 'withdrawn') AND rematched_to IS NOT NULL
        ) AS rematched,
        count(days_to_rematch) AS rematches,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_rematch) AS median_days_to_rematch,
        coalesce(sum(invitations_accepted), 0) AS accepted,
        coalesce(sum(invitations_accepted + invitations_declined + invitations_lapsed), 0)
            AS answered
    FROM pair {_BY_COHORT}
),
counted AS (
    SELECT k.scheme_id, k.cohort, coalesce(t.registered, 0) AS registered,
           coalesce(t.decided, 0) AS decided, coalesce(t.requested, 0) AS requested,
           coalesce(t.matched, 0) AS matched, coalesce(t.met, 0) AS met
    FROM keys k LEFT JOIN mentees t ON {_same_key("t")}
),
metric AS (
    SELECT t.scheme_id, t.cohort, v.metric, NULL::text AS stage, NULL::text AS audience,
           v.numerator::numeric AS numerator, v.denominator::numeric AS denominator,
           v.value::float8 AS value, v.ordinal
    FROM counted t
    LEFT JOIN eligible e ON {_same_key("e", "t")}
    LEFT JOIN pairs r ON {_same_key("r", "t")}
    CROSS JOIN LATERAL (VALUES
        {_METRIC_ROWS}
    ) AS v(metric, numerator, denominator, value, ordinal)
),
{_GIVEN},
question AS ({_QUESTIONS}),
answer AS (
    SELECT scheme_id, cohort, question_id, stage, respondent,
           count(*) AS answers, count(*) FILTER (WHERE positive) AS positive
    FROM given
    GROUP BY GROUPING SETS (
        (scheme_id, cohort, question_id, stage, respondent),
        (scheme_id, question_id, stage, respondent)
    )
    -- A round's mentors with no cohort count for the whole scheme only.
    HAVING GROUPING(cohort) = 1 OR cohort IS NOT NULL
),
survey AS (
    SELECT k.scheme_id, k.cohort, 'survey:' || q.question_id AS metric, q.stage, q.audience,
           coalesce(a.positive, 0)::numeric AS numerator,
           coalesce(a.answers, 0)::numeric AS denominator,
           {_rate("a.positive", "a.answers")} AS value,
           1000 AS ordinal
    FROM keys k
    JOIN question q ON q.scheme_id = k.scheme_id
    LEFT JOIN answer a ON {_same_key("a")} AND a.question_id = q.question_id
        AND a.stage = q.stage AND a.respondent = q.audience
)
SELECT scheme_id, cohort, metric, stage, audience, numerator, denominator, value, ordinal
FROM metric
UNION ALL
SELECT scheme_id, cohort, metric, stage, audience, numerator, denominator, value, ordinal
FROM survey
"""

# A survey question split by whether the respondent had met their mentor (a mentee)
# or a mentee (a mentor) when they answered: a first meeting of one of their pairs
# recorded before the answer.
SURVEY_BY_MET_MENTOR_SQL = f"""
WITH
{_KEYS},
{_GIVEN},
question AS ({_QUESTIONS}),
met AS (
    SELECT g.*, EXISTS (
        SELECT 1 FROM reporting.evaluation_pairs p
        WHERE g.person_id IN (p.mentee_id, p.mentor_id) AND p.first_meeting_at <= g.answered_at
    ) AS met_mentor
    FROM given g
),
answer AS (
    SELECT scheme_id, cohort, question_id, stage, respondent, met_mentor,
           count(*) AS answers, count(*) FILTER (WHERE positive) AS positive
    FROM met
    GROUP BY GROUPING SETS (
        (scheme_id, cohort, question_id, stage, respondent, met_mentor),
        (scheme_id, question_id, stage, respondent, met_mentor)
    )
    HAVING GROUPING(cohort) = 1 OR cohort IS NOT NULL
)
SELECT k.scheme_id, k.cohort, 'survey:' || q.question_id AS metric, q.stage, q.audience,
       v.met_mentor, coalesce(a.positive, 0)::numeric AS numerator,
       coalesce(a.answers, 0)::numeric AS denominator,
       {_rate("a.positive", "a.answers")} AS value
FROM keys k
JOIN question q ON q.scheme_id = k.scheme_id
CROSS JOIN (VALUES (true), (false)) AS v(met_mentor)
LEFT JOIN answer a ON {_same_key("a")} AND a.question_id = q.question_id
    AND a.stage = q.stage AND a.respondent = q.audience AND a.met_mentor = v.met_mentor
"""

_MET = """CASE
        WHEN b.value IS NULL OR o.target IS NULL THEN NULL
        WHEN o.comparison IN ('>=', 'at_least', 'gte') THEN b.value >= o.target
        WHEN o.comparison IN ('>', 'gt') THEN b.value > o.target
        WHEN o.comparison IN ('<=', 'at_most', 'lte') THEN b.value <= o.target
        WHEN o.comparison IN ('<', 'lt') THEN b.value < o.target
        WHEN o.comparison IN ('=', '==', 'eq') THEN b.value = o.target
    END"""

# An objective's metric names a row of `evaluation`; for a survey question asked at
# several stages, `survey:<id>@<stage>` picks one, else the latest stage answered
# (end, then midpoint, then baseline) is used.
OBJECTIVES_SQL = f"""
WITH
e AS MATERIALIZED (SELECT * FROM reporting.evaluation),
k AS (SELECT DISTINCT scheme_id, cohort FROM e),
o AS (
    SELECT s.scheme_id, d.ordinality AS ordinal, d.value ->> 'id' AS objective_id,
           d.value ->> 'description' AS description, d.value ->> 'metric' AS metric,
           d.value ->> 'comparison' AS comparison, (d.value ->> 'target')::float8 AS target
    FROM reporting.evaluation_schemes s
    CROSS JOIN LATERAL jsonb_array_elements(s.objectives) WITH ORDINALITY AS d(value, ordinality)
),
b AS (
    SELECT DISTINCT ON (o.scheme_id, e.cohort, o.objective_id)
           o.scheme_id, e.cohort, o.objective_id, e.value
    FROM o
    JOIN e ON e.scheme_id = o.scheme_id AND e.metric = split_part(o.metric, '@', 1)
        AND (e.stage = nullif(split_part(o.metric, '@', 2), '')
             OR nullif(split_part(o.metric, '@', 2), '') IS NULL)
    ORDER BY o.scheme_id, e.cohort, o.objective_id,
             e.denominator > 0 DESC,
             array_position(ARRAY['end', 'midpoint', 'baseline'], e.stage) NULLS FIRST
)
SELECT k.scheme_id, k.cohort, o.objective_id, o.description, o.metric, o.comparison,
       o.target, b.value AS actual, {_MET} AS met, o.ordinal
FROM k
JOIN o ON o.scheme_id = k.scheme_id
LEFT JOIN b ON b.scheme_id = k.scheme_id AND b.cohort IS NOT DISTINCT FROM k.cohort
    AND b.objective_id = o.objective_id
"""
