"""What the raw layer holds: rows per table, rejects per reason, rejected batches."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import Connection, sql

from sdp.contracts import Contract
from sdp.ingest.schema import LOADS_TABLE, REJECTS_TABLE, SCHEMA


@dataclass
class RawSummary:
    rows: dict[str, int]
    rejects: list[tuple[str, str, str | None, int]]  # entity, rule, column, count
    rejected_batches: list[tuple[str, str]]  # batch_id, error
    batches: int


def raw_summary(conn: Connection, contract: Contract) -> RawSummary:
    rows = {}
    for entity in contract.entities:
        query = sql.SQL("select count(*) from {}").format(sql.Identifier(SCHEMA, entity.qualified))
        rows[entity.qualified] = conn.execute(query).fetchone()[0]
    rejects = conn.execute(
        sql.SQL(
            "select source || '_' || entity, rule, column_name, count(*) from {}"
            " group by 1, 2, 3 order by 1, 4 desc"
        ).format(sql.Identifier(SCHEMA, REJECTS_TABLE))
    ).fetchall()
    loads = conn.execute(
        sql.SQL("select batch_id, error, status from {} order by batch_id").format(
            sql.Identifier(SCHEMA, LOADS_TABLE)
        )
    ).fetchall()
    return RawSummary(
        rows=rows,
        rejects=[tuple(r) for r in rejects],
        rejected_batches=[(b, e) for b, e, s in loads if s == "rejected"],
        batches=len(loads),
    )


def format_summary(summary: RawSummary) -> str:
    lines = ["rows per raw table:"]
    width = max(len(k) for k in summary.rows)
    lines += [f"  raw.{name:<{width}}  {n:>10,}" for name, n in summary.rows.items()]
    lines.append(f"batches loaded: {summary.batches}")
    if summary.rejects:
        lines.append("rejects per reason (raw._rejects):")
        lines += [
            f"  {entity:<{width}}  {rule:<18} {column or '-':<20} {n:>8,}"
            for entity, rule, column, n in summary.rejects
        ]
    else:
        lines.append("rejects: none")
    for batch_id, error in summary.rejected_batches:
        lines.append(f"REJECTED batch {batch_id}: {error}")
    return "\n".join(lines)
