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
from datetime import UTC, datetime, tzinfo

from psycopg import Connection, sql

from sdp.contracts import Entity, load_contract
from sdp.events import iter_ranges
from sdp.ingest.loader import copy_rejects
from sdp.ingest.schema import LOADS_TABLE, OFFSETS_TABLE, SCHEMA
from sdp.ingest.validate import column_check, session_zone

CDR_TOPIC = "cdr-events"
CDR_EVENT_TYPE = "cdr.record"
ENVELOPE_TYPES: dict[str, type | tuple[type, ...]] = {
    "event_id": str,
    "event_type": str,
    "occurred_at": str,
    "source": str,
    "schema_version": int,
    "payload": dict,
}


@dataclass(frozen=True)
class _Reject:
    offset: int
    column: str | None
    value: str | None
    rule: str
    reason: str
    record: str


@dataclass
class PartitionLoad:
    partition: int
    first: int  # first offset read
    end: int  # next offset after the range
    events: int = 0
    loaded: int = 0
    rejected: int = 0
    rules: Counter = field(default_factory=Counter)
    bytes: int = 0
    landed_ms: int = 0  # the newest Kafka timestamp read
    min_day: str | None = None
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    seen: dict[tuple, int] = field(default_factory=dict)  # key -> first offset, in this batch
    rejects: list[_Reject] = field(default_factory=list)
    topic: str = CDR_TOPIC

    @property
    def batch_id(self) -> str:
        return f"{self.topic}.p{self.partition}.{self.first}-{self.end - 1}"

    @property
    def file(self) -> str:
        return f"kafka:{self.topic}/{self.partition}"


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


def committed_offsets(conn: Connection, topic: str = CDR_TOPIC) -> dict[int, int]:
    rows = conn.execute(
        f"select partition, next_offset from {SCHEMA}.{OFFSETS_TABLE} where topic = %s", (topic,)
    ).fetchall()
    return dict(rows)


class CdrEventParser:
    """Turns one message value into a raw row, or says which rule it breaks and why.

    Most events are well formed, so the common shapes (a string where a string is due, an
    enum value, a JSON integer) are accepted on the spot; anything else goes through the same
    column checks as the batch loader, which also word the reasons.
    """

    def __init__(self, entity: Entity, zone: tzinfo) -> None:
        self.columns = list(entity.column_names)
        self.key = list(entity.key)
        self.plan = [
            (
                c,
                entity.column(c).type,
                entity.column(c).required,
                _allowed(entity, c),
                column_check(entity.column(c), zone),
            )
            for c in self.columns
        ]

    def parse(self, offset: int, value: bytes | None) -> list[object] | _Reject:
        if value and b"\\u0000" in value:  # PostgreSQL text cannot hold NUL
            return _Reject(
                offset, None, None, "invalid_value", "event holds a NUL character", _text(value)
            )
        try:
            event = json.loads((value or b"").decode("utf-8"))
        except ValueError as exc:  # UnicodeDecodeError included
            return _Reject(offset, None, None, "bad_json", f"not JSON: {exc}", _text(value))
        if not (
            type(event) is dict
            and event.get("event_type") == CDR_EVENT_TYPE
            and type(event.get("payload")) is dict
            and type(event.get("event_id")) is str
            and type(event.get("schema_version")) is int
            and type(event.get("occurred_at")) is str
            and type(event.get("source")) is str
        ):
            return self._bad_envelope(offset, value, event)
        payload = event["payload"]
        row: list[object] = []
        for name, kind, required, allowed, check in self.plan:
            raw = payload.get(name)
            kind_of = type(raw)
            if (
                kind_of is str
                and raw.strip()
                and (kind == "string" or (kind == "enum" and raw in allowed))
            ):
                row.append(raw)
                continue
            if kind_of is int and kind == "integer" and -(2**63) <= raw < 2**63:
                row.append(raw)
                continue
            if raw is None and not required:
                row.append(None)
                continue
            if kind_of in (bool, list, dict):
                return _Reject(
                    offset,
                    name,
                    _short(raw),
                    "invalid_value",
                    f"{name}: {raw!r} is not a scalar value",
                    _text(value),
                )
            shown = None if raw is None else str(raw)
            checked, reason = check(shown)
            if reason:
                rule = "missing_required" if reason.startswith("required") else "invalid_value"
                return _Reject(offset, name, shown, rule, f"{name}: {reason}", _text(value))
            row.append(checked)
        return row

    @staticmethod
    def _bad_envelope(offset: int, value: bytes | None, event: object) -> _Reject:
        """Why an event is not a CDR envelope, naming the first field at fault."""
        text = _text(value)
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
        return _Reject(
            offset,
            "event_type",
            str(event["event_type"]),
            "unknown_event_type",
            f"event_type {event['event_type']!r} is not {CDR_EVENT_TYPE!r}",
            text,
        )


def _allowed(entity: Entity, column: str) -> frozenset[str]:
    return frozenset(entity.column(column).values or ())


def load_cdr_ranges(
    conn: Connection,
    servers: str,
    ranges: dict[int, tuple[int, int]],
    log: Callable[[str], None] = lambda _: None,
    topic: str = CDR_TOPIC,
) -> StreamLoad:
    """Load the asked offset ranges of `topic` (end exclusive); see the module docstring.

    Good records stream into one COPY while the fetch goes on, so PostgreSQL works on the rows
    while Kafka is still being read; rejects and the batches' bookkeeping follow in the same
    transaction.
    """
    entity = load_contract().entity("cdr", "records")
    parser = CdrEventParser(entity, session_zone(conn))
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
        parts = {p: PartitionLoad(p, -1, end, topic=topic) for p, (_, end) in effective.items()}
        target = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(SCHEMA, entity.qualified),
            sql.SQL(", ").join(map(sql.Identifier, [*parser.columns, "batch_id", "file", "line"])),
        )
        key_at = [parser.columns.index(k) for k in entity.key]
        day_at = parser.columns.index("event_time")
        with conn.cursor().copy(target) as copy:
            for p, offset, timestamp_ms, value in iter_ranges(servers, topic, effective):
                part = parts[p]
                if part.first < 0:
                    part.first = offset
                row = _take(part, parser, key_at, day_at, offset, timestamp_ms, value)
                if row is not None:
                    copy.write_row(row)
        for p, part in sorted(parts.items()):
            if part.first < 0:  # the broker no longer holds any of the range
                part.first = part.end
            _finish_partition(conn, entity, part)
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


def _take(
    part: PartitionLoad,
    parser: CdrEventParser,
    key_at: list[int],
    day_at: int,
    offset: int,
    timestamp_ms: int,
    value: bytes | None,
) -> list | None:
    """Account for one record of the partition; the row to COPY, or None when rejected."""
    part.events += 1
    if value:
        part.digest.update(value)
        part.bytes += len(value)
    part.landed_ms = max(part.landed_ms, timestamp_ms or 0)
    parsed = parser.parse(offset, value)
    if isinstance(parsed, list):
        key = tuple(parsed[i] for i in key_at)
        first = part.seen.setdefault(key, offset)
        if first == offset:
            day = parsed[day_at][:10]
            if part.min_day is None or day < part.min_day:
                part.min_day = day
            part.loaded += 1
            return [*parsed, part.batch_id, part.file, offset]
        parsed = _Reject(
            offset,
            ",".join(parser.key),
            "|".join(str(k) for k in key),
            "duplicate_key",
            f"duplicate key ({', '.join(parser.key)}) = {key}: first at offset {first}",
            _text(value),
        )
    part.rejects.append(parsed)
    part.rejected += 1
    part.rules[parsed.rule] += 1
    return None


def _finish_partition(conn: Connection, entity: Entity, part: PartitionLoad) -> None:
    """The partition's rejects and its batch row in `raw._loads`."""
    if not part.events:
        return
    copy_rejects(
        conn,
        (
            (
                part.batch_id,
                entity.source,
                entity.name,
                part.file,
                r.offset,
                r.column,
                r.value,
                r.rule,
                r.reason,
                r.record,
            )
            for r in part.rejects
        ),
    )
    landed = (
        datetime.fromtimestamp(part.landed_ms / 1000, UTC) if part.landed_ms else datetime.now(UTC)
    )
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
            part.min_day or landed.date().isoformat(),
            part.file,
            part.digest.hexdigest(),
            landed,
            part.events,
            part.loaded,
            part.rejected,
            part.bytes,
        ),
    )


def _text(value: bytes | str | None) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else value.decode("utf-8", errors="replace")


def _short(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(_text(text)) <= 200 else text[:197] + "..."
