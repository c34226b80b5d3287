"""The quality score (the seed's "Score de Qualité"): 0 to 100 per dataset and day, and overall.

    score = 100 × Σ weight × credit / Σ weight

over the latest result of each check for that dataset and day, where credit is 1 for a pass,
0.5 for a warning and 0 for a failure or a check that could not run, and weight is 2 for checks
that can fail (error severity) and 1 for warn-only checks. The overall score of a day weighs
every check of every dataset the same way. The day is the partition the scan was for, or the
day it ran when it was not for one partition.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from psycopg import Connection

from sdp.db import replace_rows
from sdp.quality.store import SCHEMA

OVERALL = "(overall)"
_SCORES = f"""
with latest as (
    select distinct on (dataset, check_name, coalesce(partition_date, scanned_at::date))
        dataset, coalesce(partition_date, scanned_at::date) as day, outcome,
        case when severity = 'error' then 2 else 1 end as weight
    from {SCHEMA}.check_results
    order by dataset, check_name, coalesce(partition_date, scanned_at::date), scanned_at desc,
        result_id desc
),
graded as (
    select dataset, day, weight, outcome,
           weight * case outcome when 'pass' then 1 when 'warn' then 0.5 else 0 end as earned
    from latest
)
select coalesce(dataset, '{OVERALL}'), day,
       round(100 * sum(earned) / sum(weight), 1),
       count(*),
       count(*) filter (where outcome = 'pass'),
       count(*) filter (where outcome = 'warn'),
       count(*) filter (where outcome in ('fail', 'error'))
from graded
group by grouping sets ((dataset, day), (day))
"""


@dataclass(frozen=True)
class QualityScore:
    dataset: str
    day: date
    score: float
    checks: int
    passed: int
    warned: int
    failed: int


def refresh_scores(conn: Connection) -> list[QualityScore]:
    """Recompute every dataset's and the overall score for every day in the history."""
    scores = [
        QualityScore(d, day, float(s), c, p, w, f)
        for d, day, s, c, p, w, f in conn.execute(_SCORES)
    ]
    columns = [f.name for f in fields(QualityScore)]
    replace_rows(
        conn, f"{SCHEMA}.scores", columns, ([getattr(s, c) for c in columns] for s in scores)
    )
    return sorted(scores, key=lambda s: (s.day, s.dataset))
