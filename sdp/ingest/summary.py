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


@dataclass(frozen=True)
class DayBatch:
    batch_id: str
    status: str
    rows_loaded: int
    rows_rejected: int
    bytes: int
    method: str
    loaded_at: object


@dataclass(frozen=True)
class DayLedger:
    """What the warehouse holds of one entity's day, whichever run loaded it."""

    batches: list[DayBatch]
    rejects_by_rule: dict[str, int]

    @property
    def rows_loaded(self) -> int:
        return sum(b.rows_loaded for b in self.batches if b.status == "loaded")

    @property
    def rows_rejected(self) -> int:
        return sum(b.rows_rejected for b in self.batches)

    @property
    def bytes(self) -> int:
        return sum(b.bytes for b in self.batches)


def day_ledger(conn: Connection, source: str, entity: str, day: str) -> DayLedger:
    """The day's batches from `raw._loads` and their rejects by rule from `raw._rejects`."""
    loads = sql.Identifier(SCHEMA, LOADS_TABLE)
    batches = [
        DayBatch(*row)
        for row in conn.execute(
            sql.SQL(
                "select batch_id, status, rows_loaded, rows_rejected, bytes, method, loaded_at"
                " from {} where source = %s and entity = %s and partition_date = %s"
                " order by loaded_at, batch_id"
            ).format(loads),
            (source, entity, day),
        )
    ]
    rules = conn.execute(
        sql.SQL(
            "select r.rule, count(*) from {} as r join {} as l using (batch_id)"
            " where l.source = %s and l.entity = %s and l.partition_date = %s group by r.rule"
        ).format(sql.Identifier(SCHEMA, REJECTS_TABLE), loads),
        (source, entity, day),
    ).fetchall()
    return DayLedger(batches, dict(rules))
