"""CDRs from the `cdr-events` topic into `raw.cdr_records`, exactly once in effect.

The sensor hands a run explicit offset ranges per partition. The run, in one transaction, locks
the partitions' rows in `raw._stream_offsets`, reads what lies between the committed offset and
the end of its range, COPYs the good records, writes the bad ones to `raw._rejects` and moves
the committed offsets. A re-run, a replayed range or two runs racing each other find the
offsets already moved and insert nothing twice; a range a failed run left behind is picked up by
the next run, whose start reaches back to the committed offset.

Each partition's share of a run is one batch in `raw._loads` (id `cdr-events.p<partition>.
<first>-<last offset>`), so staging orders streamed rows like landed ones; the rows' lineage is
the topic partition as `file` and the offset as `line`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg import Connection, sql

from sdp.contracts import Entity, load_contract
from sdp.events import fetch_ranges
from sdp.ingest.loader import REJECT_COLUMNS, printable
from sdp.ingest.schema import LOADS_TABLE, REJECTS_TABLE, SCHEMA
from sdp.ingest.validate import column_check

CDR_TOPIC = "cdr-events"
CDR_EVENT_TYPE = "cdr.record"
OFFSETS_TABLE = "_stream_offsets"
ENVELOPE_TYPES: dict[str, type | tuple[type, ...]] = {
    "event_id": str,
    "event_type": str,
    "occurred_at": str,
    "source": str,
    "schema_version": int,
    "payload": dict,
}

OFFSETS_DDL = f"""
create table if not exists {SCHEMA}.{OFFSETS_TABLE} (
    topic text not null,
    partition int not null,
    next_offset bigint not null,
    advanced boolean not null default false,
    updated_at timestamptz not null default now(),
    primary key (topic, partition)
);
comment on table {SCHEMA}.{OFFSETS_TABLE} is
    'per topic partition, the next offset not yet in raw: moved in the transaction of the rows';
"""


@dataclass
class PartitionLoad:
    partition: int
    first: int  # first offset read
    end: int  # next offset after the range
    events: int = 0
    loaded: int = 0
    rejected: int = 0
    rules: Counter = field(default_factory=Counter)

    @property
    def batch_id(self) -> str:
        return f"{CDR_TOPIC}.p{self.partition}.{self.first}-{self.end - 1}"

    @property
    def file(self) -> str:
        return f"kafka:{CDR_TOPIC}/{self.partition}"


@dataclass
class StreamLoad:
    partitions: list[PartitionLoad] = field(default_factory=list)
    skipped: int = 0  # events of the asked ranges already in raw (a replay or a race)
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(p.events for p in self.partitions)

    @property
    def loaded(self) -> int:
        return sum(p.loaded for p in self.partitions)

    @property
    def rejected(self) -> int:
        return sum(p.rejected for p in self.partitions)

    def rejects_by_rule(self) -> dict[str, int]:
        total: Counter = Counter()
        for p in self.partitions:
            total.update(p.rules)
        return dict(total)


@dataclass(frozen=True)
class _Reject:
    offset: int
    column: str | None
    value: str | None
    rule: str
    reason: str
    record: str


def ensure_offsets_table(conn: Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtextextended('sdp.raw.ddl', 0))")
        conn.execute(OFFSETS_DDL)


def committed_offsets(conn: Connection, topic: str = CDR_TOPIC) -> dict[int, int]:
    ensure_offsets_table(conn)
    rows = conn.execute(
        f"select partition, next_offset from {SCHEMA}.{OFFSETS_TABLE} where topic = %s", (topic,)
    ).fetchall()
    return dict(rows)


class CdrEventParser:
    """Turns one message value into a raw row, or says which rule it breaks and why."""

    def __init__(self, entity: Entity) -> None:
        self.columns = list(entity.column_names)
        self.checks = [(c, column_check(entity.column(c))) for c in self.columns]

    def parse(self, offset: int, value: bytes | None) -> list[str | None] | _Reject:
        text = "" if value is None else value.decode("utf-8", errors="replace")
        try:
            event = json.loads(text)
        except ValueError as exc:
            return _Reject(offset, None, None, "bad_json", f"not JSON: {exc}", text)
        if not isinstance(event, dict):
            return _Reject(offset, None, None, "bad_envelope", "an event is a JSON object", text)
        for name, kind in ENVELOPE_TYPES.items():
            if name not in event:
                return _Reject(offset, name, None, "bad_envelope", f"{name} is missing", text)
            got = event[name]
            if not isinstance(got, kind) or isinstance(got, bool):
                return _Reject(
                    offset,
                    name,
                    _short(got),
                    "bad_envelope",
                    f"{name} must be {getattr(kind, '__name__', kind)}, not {type(got).__name__}",
                    text,
                )
        if event["event_type"] != CDR_EVENT_TYPE:
            return _Reject(
                offset,
                "event_type",
                event["event_type"],
                "unknown_event_type",
                f"event_type {event['event_type']!r} is not {CDR_EVENT_TYPE!r}",
                text,
            )
        payload = event["payload"]
        row: list[str | None] = []
        for name, check in self.checks:
            raw = payload.get(name)
            if isinstance(raw, (bool, list, dict)):
                return _Reject(
                    offset,
                    name,
                    _short(raw),
                    "invalid_value",
                    f"{name}: {raw!r} is not a scalar value",
                    text,
                )
            shown = None if raw is None else str(raw)
            checked, reason = check(shown)
            if reason:
                rule = "missing_required" if reason.startswith("required") else "invalid_value"
                return _Reject(offset, name, shown, rule, f"{name}: {reason}", text)
            row.append(checked)
        return row


def load_cdr_ranges(
    conn: Connection,
    servers: str,
    ranges: dict[int, tuple[int, int]],
    log: Callable[[str], None] = lambda _: None,
    topic: str = CDR_TOPIC,
) -> StreamLoad:
    """Load the asked offset ranges of `topic` (end exclusive); see the module docstring."""
    entity = load_contract().entity("cdr", "records")
    parser = CdrEventParser(entity)
    ensure_offsets_table(conn)
    started = time.perf_counter()
    outcome = StreamLoad()
    _register_partitions(conn, topic, ranges)
    with conn.transaction():
        committed = conn.execute(
            f"select partition, next_offset from {SCHEMA}.{OFFSETS_TABLE}"
            " where topic = %s and partition = any(%s) order by partition for update",
            (topic, list(ranges)),
        ).fetchall()
        effective: dict[int, tuple[int, int]] = {}
        for p, begin in committed:
            start, end = ranges[p]
            outcome.skipped += max(0, min(end, begin) - start)
            if end > begin:
                effective[p] = (begin, end)
        fetched = fetch_ranges(servers, topic, effective)
        for p, messages in sorted(fetched.items()):
            first = messages[0][0] if messages else effective[p][0]
            part = PartitionLoad(p, first, effective[p][1])
            _load_partition(conn, entity, parser, part, messages)
            outcome.partitions.append(part)
            log(
                f"{topic}[{p}] offsets {part.first}..{part.end - 1}: {part.events} events, "
                f"{part.loaded} loaded, {part.rejected} rejected"
            )
        for p, (_, end) in effective.items():
            conn.execute(
                f"update {SCHEMA}.{OFFSETS_TABLE}"
                " set next_offset = %s, advanced = true, updated_at = now()"
                " where topic = %s and partition = %s",
                (end, topic, p),
            )
    outcome.seconds = time.perf_counter() - started
    return outcome


def _register_partitions(conn: Connection, topic: str, ranges: dict[int, tuple[int, int]]) -> None:
    """Give each partition its offset row before any load, committed on its own.

    Until a load has advanced it, the row holds the lowest start any run has asked for, so a
    run that fails before its first commit still leaves the place the next run must reach
    back to; once advanced, only loads move it.
    """
    with conn.transaction():
        for p, (start, _) in sorted(ranges.items()):
            conn.execute(
                f"insert into {SCHEMA}.{OFFSETS_TABLE} as o (topic, partition, next_offset)"
                " values (%s, %s, %s) on conflict (topic, partition) do update"
                " set next_offset = least(o.next_offset, excluded.next_offset)"
                " where not o.advanced",
                (topic, p, start),
            )


def _load_partition(
    conn: Connection,
    entity: Entity,
    parser: CdrEventParser,
    part: PartitionLoad,
    messages: list[tuple[int, int, bytes]],
) -> None:
    key_at = [parser.columns.index(k) for k in entity.key]
    seen: dict[tuple, int] = {}
    good: list[list] = []
    rejects: list[_Reject] = []
    days: set[str] = set()
    landed_ms = 0
    digest = hashlib.sha256()
    event_time_at = parser.columns.index("event_time")
    for offset, timestamp_ms, value in messages:
        digest.update(value or b"")
        landed_ms = max(landed_ms, timestamp_ms or 0)
        parsed = parser.parse(offset, value)
        if isinstance(parsed, list):
            key = tuple(parsed[i] for i in key_at)
            first = seen.setdefault(key, offset)
            if first != offset:
                parsed = _Reject(
                    offset,
                    ",".join(entity.key),
                    "|".join(str(k) for k in key),
                    "duplicate_key",
                    f"duplicate key ({', '.join(entity.key)}) = {key}: first at offset {first}",
                    (value or b"").decode("utf-8", errors="replace"),
                )
        if isinstance(parsed, list):
            days.add(parsed[event_time_at][:10])
            good.append([*parsed, part.batch_id, part.file, offset])
        else:
            rejects.append(parsed)
    part.events = len(messages)
    part.loaded = len(good)
    part.rejected = len(rejects)
    part.rules.update(r.rule for r in rejects)
    if not messages:
        return
    if good:
        target = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(SCHEMA, entity.qualified),
            sql.SQL(", ").join(map(sql.Identifier, [*parser.columns, "batch_id", "file", "line"])),
        )
        with conn.cursor().copy(target) as copy:
            for row in good:
                copy.write_row(row)
    if rejects:
        target = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(SCHEMA, REJECTS_TABLE),
            sql.SQL(", ").join(map(sql.Identifier, REJECT_COLUMNS)),
        )
        with conn.cursor().copy(target) as copy:
            for r in rejects:
                copy.write_row(
                    (
                        part.batch_id,
                        entity.source,
                        entity.name,
                        part.file,
                        r.offset,
                        r.column,
                        printable(r.value),
                        r.rule,
                        printable(r.reason),
                        printable(r.record),
                    )
                )
    landed = datetime.fromtimestamp(landed_ms / 1000, UTC) if landed_ms else datetime.now(UTC)
    conn.execute(
        sql.SQL(
            "insert into {} (batch_id, source, entity, partition_date, file, format, sha256,"
            " schema_version, landed_at, status, rows_in, rows_loaded, rows_rejected, bytes,"
            " seconds, method) values (%s, %s, %s, %s, %s, 'kafka', %s, 1, %s, 'loaded', %s,"
            " %s, %s, %s, 0, 'stream')"
        ).format(sql.Identifier(SCHEMA, LOADS_TABLE)),
        (
            part.batch_id,
            entity.source,
            entity.name,
            min(days) if days else landed.date().isoformat(),
            part.file,
            digest.hexdigest(),
            landed,
            part.events,
            part.loaded,
            part.rejected,
            sum(len(v or b"") for _, _, v in messages),
        ),
    )


def _short(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 200 else text[:197] + "..."
