"""Schema `rca`: one row per (finding, cause), the cause's rank within its finding."""

from __future__ import annotations

from psycopg import Connection

from rca.findings import Finding
from sdp.db import replace_rows

FINDINGS = "rca.findings"
COLUMNS = (
    "finding_id",
    "symptom",
    "metric",
    "amount",
    "finding_start",
    "finding_end",
    "cause_rank",
    "cause_kind",
    "dimension",
    "dimension_value",
    "window_start",
    "window_end",
    "score",
    "evidence",
    "recommendation",
)
DDL = f"""
create schema if not exists rca;
create table if not exists {FINDINGS} (
    finding_id text not null,
    symptom text not null,
    metric text not null,
    amount numeric not null,
    finding_start timestamptz not null,
    finding_end timestamptz not null,
    cause_rank int not null,
    cause_kind text not null,
    dimension text not null,
    dimension_value text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    score double precision not null,
    evidence text not null,
    recommendation text not null,
    analysed_at timestamptz not null default now(),
    primary key (finding_id, cause_rank)
);
comment on table {FINDINGS} is
    'root-cause analysis: per finding (a leak, a drop, a feed problem) its causes, best first';
"""


def write_findings(conn: Connection, findings: list[Finding]) -> int:
    """Replace the findings whole: the analysis is a judgement over all the data, re-made."""
    with conn.transaction():
        conn.execute(DDL)
    rows = [
        (
            f.finding_id,
            f.symptom,
            f.metric,
            round(f.amount, 4),
            f.window_start,
            f.window_end,
            rank,
            c.kind,
            c.dimension,
            c.value,
            c.window_start,
            c.window_end,
            c.score,
            c.evidence,
            c.recommendation,
        )
        for f in findings
        for rank, c in enumerate(f.causes, 1)
    ]
    replace_rows(conn, FINDINGS, COLUMNS, rows)
    return len(findings)
