"""Schema `rca`: one row per (finding, cause), the cause's rank within its finding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg import Connection

from sdp.db import replace_rows

if TYPE_CHECKING:  # the analysis and its scipy load only where findings are computed
    from rca.findings import Finding

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


def write_findings(conn: Connection, findings: list[Finding]) -> int:
    """Replace the findings whole: the analysis is a judgement over all the data, re-made."""
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
