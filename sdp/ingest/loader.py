"""Load one landed batch into schema `raw`, exactly once per batch_id.

Two paths, one outcome. A clean CSV (valid UTF-8, no quoting, no extra columns, unique keys)
streams straight into its raw table with a single COPY, and the table's constraints are the
contract check. Anything else, or a COPY the constraints refuse, rolls back to a savepoint and
takes the exact path: every record parsed and checked in Python, good rows copied in, bad rows
written to `raw._rejects` with file, line, column and reason. A manifest that disagrees with its
file (sha256, row count) or a file without a usable header rejects the whole batch, every record
of it recorded as rejected, so rows in = rows loaded + rows rejected always holds.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import Connection, sql
from psycopg import errors as pg_errors

from sdp.contracts import Contract, Entity, load_contract
from sdp.ingest.records import Record, read_csv, read_jsonl
from sdp.ingest.schema import LOADS_TABLE, REJECTS_TABLE, SCHEMA, line_sequence
from sdp.ingest.validate import column_check, session_zone
from sdp.landing import Manifest, ManifestError, read_manifest

CHUNK = 1 << 20
HEADER_RULES = ("no_header",)
REJECT_COLUMNS = (
    "batch_id",
    "source",
    "entity",
    "file",
    "line",
    "column_name",
    "value",
    "rule",
    "reason",
    "record",
)


@dataclass
class LoadResult:
    batch_id: str
    source: str
    entity: str
    partition_date: str
    file: str
    status: str = "loaded"  # "rejected": the whole batch; "unchanged": already loaded as is
    error: str | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    bytes: int = 0
    seconds: float = 0.0
    method: str = "copy"  # "copy": single COPY; "validated": row by row
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    rejects_by_rule: dict[str, int] = field(default_factory=dict)
    fast_path_declined: str | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds else 0.0


class _Declined(Exception):
    """The fast path cannot prove the batch clean; the exact path will."""


class _BatchInvalid(Exception):
    """The batch as a whole cannot be trusted."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule


@dataclass
class _Reject:
    line: int | None
    column: str | None
    value: str | None
    rule: str
    reason: str
    record: str | None


def _header_names(raw: list[str]) -> list[str]:
    names = [h.strip().lstrip("\ufeff").strip().lower() for h in raw]
    return names


def _plan_columns(entity: Entity, header: list[str], file: str) -> tuple[list[str], list[str]]:
    """Extra and missing-optional columns; a missing required or repeated column is fatal."""
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise _BatchInvalid("bad_header", f"{file}: header repeats column(s) {', '.join(repeated)}")
    known = set(entity.column_names)
    if not known & set(header):
        raise _BatchInvalid(
            "no_header", f"{file}: the first line names no column of the contract: no header row"
        )
    missing_required = [c for c in entity.required if c not in header]
    if missing_required:
        raise _BatchInvalid(
            "missing_column",
            f"{file}: required column(s) {', '.join(missing_required)} missing from the header",
        )
    extra = [h for h in header if h not in known]
    missing = [c for c in entity.column_names if c not in header]
    return extra, missing


def _key_pattern(positions: list[int]) -> re.Pattern[bytes]:
    """Captures the key fields of unquoted CSV lines, for the fast path's duplicate check."""
    # (?=[^\r\n]): a line has content, so the empty match after the last newline is no key
    field_re, parts, at = rb"[^,\r\n]*", [rb"^(?=[^\r\n])"], 0
    for pos in sorted(positions):
        if pos > at:
            parts.append(rb"(?:" + field_re + rb",){%d}" % (pos - at))
        parts.append(rb"(" + field_re + rb")")
        at = pos
        parts.append(rb",?")
        at += 1
    return re.compile(b"".join(parts), re.M)


class BatchLoader:
    def __init__(self, conn: Connection, contract: Contract | None = None) -> None:
        self.conn = conn
        self.contract = contract or load_contract()

    # -- entry point ----------------------------------------------------------------------
    def load(self, manifest_path: Path, force: bool = False) -> LoadResult:
        """Load a batch; one already loaded with the same sha256 is left alone unless forced."""
        manifest = read_manifest(manifest_path)
        try:
            entity = self.contract.entity(manifest.source, manifest.entity)
        except KeyError as exc:
            raise ManifestError(f"{manifest_path}: {exc.args[0]}") from exc
        path = manifest.data_path
        if not path.is_file():
            raise ManifestError(f"{manifest_path}: data file {path.name} is missing")
        result = LoadResult(
            manifest.batch_id,
            manifest.source,
            manifest.entity,
            manifest.partition_date,
            manifest.file,
            bytes=path.stat().st_size,
        )
        started = time.perf_counter()
        if not force and self._already_loaded(manifest):
            result.status = "unchanged"
            return result
        with self.conn.transaction():
            self._prepare(entity, manifest)
            try:
                if manifest.format == "csv":
                    try:
                        with self.conn.transaction():
                            self._copy_clean_csv(entity, manifest, result)
                    except _Declined as exc:
                        result.fast_path_declined = str(exc)
                        self._load_validated(entity, manifest, result)
                else:
                    self._load_validated(entity, manifest, result)
            except _BatchInvalid as exc:
                self._reject_batch(entity, manifest, result, exc)
            result.seconds = time.perf_counter() - started
            self._record_load(manifest, result)
        result.seconds = time.perf_counter() - started
        return result

    def _already_loaded(self, manifest: Manifest) -> bool:
        row = self.conn.execute(
            sql.SQL("select sha256, status from {} where batch_id = %s").format(
                sql.Identifier(SCHEMA, LOADS_TABLE)
            ),
            (manifest.batch_id,),
        ).fetchone()
        return row is not None and row[0] == manifest.sha256 and row[1] == "loaded"

    def _prepare(self, entity: Entity, manifest: Manifest) -> None:
        """Serialise loads of one entity and forget any earlier load of this batch_id."""
        self.conn.execute(
            "select pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"sdp.raw.{entity.qualified}",),
        )
        earlier = self.conn.execute(
            sql.SQL("delete from {} where batch_id = %s returning source || '_' || entity").format(
                sql.Identifier(SCHEMA, LOADS_TABLE)
            ),
            (manifest.batch_id,),
        ).fetchone()
        if earlier:  # only a batch registered in raw._loads can have rows to replace
            for table in (earlier[0], REJECTS_TABLE):
                self.conn.execute(
                    sql.SQL("delete from {} where batch_id = %s").format(
                        sql.Identifier(SCHEMA, table)
                    ),
                    (manifest.batch_id,),
                )
        self.conn.execute(
            "select set_config('sdp.batch_id', %s, true), set_config('sdp.file', %s, true)",
            (manifest.batch_id, manifest.file),
        )

    # -- fast path ------------------------------------------------------------------------
    def _copy_clean_csv(self, entity: Entity, manifest: Manifest, result: LoadResult) -> None:
        path = manifest.data_path
        sha = hashlib.sha256()
        decoder = codecs.getincrementaldecoder("utf-8")()
        with open(path, "rb") as fh:
            first = fh.read(CHUNK)
            end = first.find(b"\n")
            if end < 0 or b'"' in first[:end]:
                raise _Declined("no plain header line")
            try:
                header = _header_names(first[:end].decode("utf-8").rstrip("\r").split(","))
            except UnicodeDecodeError as exc:
                raise _Declined("header is not UTF-8") from exc
            extra, missing = _plan_columns(entity, header, manifest.file)
            if extra:
                raise _Declined(f"extra columns {extra}")
            result.missing_columns = missing
            keys = _key_pattern([header.index(k) for k in entity.key])
            seen: set = set()
            keys_found = 0
            tail = b""
            copy_sql = sql.SQL("copy {} ({}) from stdin (format csv, header true)").format(
                sql.Identifier(SCHEMA, entity.qualified),
                sql.SQL(", ").join(map(sql.Identifier, header)),
            )
            self.conn.execute(
                "select setval(%s::regclass, 1, true)", (f"{SCHEMA}.{line_sequence(entity)}",)
            )
            cur = self.conn.cursor()
            try:
                with cur.copy(copy_sql) as copy:
                    chunk, body = first, first[end + 1 :]
                    while chunk:
                        sha.update(chunk)
                        if b'"' in chunk:
                            raise _Declined("quoted fields")
                        try:
                            decoder.decode(chunk)
                        except UnicodeDecodeError as exc:
                            raise _Declined("bytes that are not UTF-8") from exc
                        complete = body.rfind(b"\n") + 1
                        found = keys.findall(tail + body[:complete])
                        tail = body[complete:]
                        keys_found += len(found)
                        seen.update(found)
                        copy.write(chunk)
                        chunk = body = fh.read(CHUNK)
                    if tail.strip():
                        found = keys.findall(tail)
                        keys_found += len(found)
                        seen.update(found)
                    decoder.decode(b"", final=True)
                    if len(seen) != keys_found:
                        raise _Declined("duplicate keys")
            except UnicodeDecodeError as exc:
                raise _Declined("bytes that are not UTF-8") from exc
            except (pg_errors.DataError, pg_errors.IntegrityError) as exc:
                raise _Declined(f"COPY refused a row: {exc.diag.message_primary}") from exc
            rows = cur.rowcount
        self._check_manifest(manifest, sha.hexdigest(), rows)
        result.rows_in = result.rows_loaded = rows
        result.method = "copy"

    def _check_manifest(self, manifest: Manifest, sha256: str, rows: int) -> None:
        if sha256 != manifest.sha256:
            raise _BatchInvalid(
                "manifest_mismatch",
                f"{manifest.file}: sha256 is {sha256} but manifest {manifest.batch_id} says "
                f"{manifest.sha256}",
            )
        if rows != manifest.rows:
            raise _BatchInvalid(
                "manifest_mismatch",
                f"{manifest.file}: holds {rows} rows but manifest {manifest.batch_id} says "
                f"{manifest.rows}",
            )

    # -- exact path -----------------------------------------------------------------------
    def _load_validated(self, entity: Entity, manifest: Manifest, result: LoadResult) -> None:
        data = manifest.data_path.read_bytes()
        self._check_sha(manifest, data)
        if manifest.format == "csv":
            header_raw, records = read_csv(data)
            if header_raw is None:
                raise _BatchInvalid("no_header", f"{manifest.file}: empty file, no header row")
            header = _header_names(header_raw)
            extra, missing = _plan_columns(entity, header, manifest.file)
            rows = list(records)
        else:
            header, extra, missing = [], [], []
            rows = list(read_jsonl(data))
        self._check_manifest(manifest, manifest.sha256, len(rows))
        result.method = "validated"
        result.rows_in = len(rows)
        columns = (
            [c for c in entity.column_names if c not in missing]
            if header
            else list(entity.column_names)
        )
        zone = session_zone(self.conn)
        checks = {name: column_check(entity.column(name), zone) for name in columns}
        key_seen: dict[tuple, int] = {}
        good: list[list[str | None]] = []
        rejects: list[_Reject] = []
        jsonl_extra: set[str] = set()
        for record in rows:
            values, reject = self._check_record(record, header, columns, checks, jsonl_extra)
            if reject is None:
                key = tuple(values[columns.index(k)] for k in entity.key)
                first = key_seen.setdefault(key, record.line)
                if first != record.line:
                    reject = _Reject(
                        record.line,
                        ",".join(entity.key),
                        "|".join(str(k) for k in key),
                        "duplicate_key",
                        f"duplicate key ({', '.join(entity.key)}) = {key}: first at line {first}",
                        record.raw,
                    )
            if reject is None:
                good.append([*values, str(record.line)])
            else:
                rejects.append(reject)
        result.extra_columns = extra or sorted(jsonl_extra)
        result.missing_columns = missing
        if good:
            target = sql.SQL("copy {} ({}) from stdin").format(
                sql.Identifier(SCHEMA, entity.qualified),
                sql.SQL(", ").join(map(sql.Identifier, [*columns, "line"])),
            )
            with self.conn.cursor().copy(target) as copy:
                for row in good:
                    copy.write_row(row)
        self._write_rejects(manifest, rejects)
        result.rows_loaded = len(good)
        result.rows_rejected = len(rejects)
        result.rejects_by_rule = dict(Counter(r.rule for r in rejects))

    def _check_sha(self, manifest: Manifest, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != manifest.sha256:
            raise _BatchInvalid(
                "manifest_mismatch",
                f"{manifest.file}: sha256 is {digest} but manifest {manifest.batch_id} says "
                f"{manifest.sha256}",
            )

    @staticmethod
    def _check_record(
        record: Record,
        header: list[str],
        columns: list[str],
        checks: dict,
        jsonl_extra: set[str],
    ) -> tuple[list[str | None], _Reject | None]:
        if record.rule:
            return [], _Reject(record.line, None, None, record.rule, record.error or "", record.raw)
        if "\x00" in record.raw:
            return [], _Reject(
                record.line, None, None, "invalid_value", "record holds a NUL character", record.raw
            )
        if record.fields is not None:
            if len(record.fields) != len(header):
                return [], _Reject(
                    record.line,
                    None,
                    None,
                    "field_count",
                    f"expected {len(header)} fields as in the header, found {len(record.fields)}",
                    record.raw,
                )
            by_name: dict[str, object] = dict(zip(header, record.fields, strict=True))
        else:
            by_name = dict(record.obj)  # type: ignore[arg-type]
            jsonl_extra.update(k for k in by_name if k not in checks)
        values: list[str | None] = []
        for name in columns:
            raw = by_name.get(name)
            if isinstance(raw, (bool, list, dict)):
                return [], _Reject(
                    record.line,
                    name,
                    str(raw),
                    "invalid_value",
                    f"{name}: {raw!r} is not a scalar value",
                    record.raw,
                )
            text = None if raw is None else str(raw)
            value, reason = checks[name](text)
            if reason:
                rule = "missing_required" if reason.startswith("required") else "invalid_value"
                return [], _Reject(record.line, name, text, rule, f"{name}: {reason}", record.raw)
            values.append(value)
        return values, None

    # -- whole-batch rejection and bookkeeping --------------------------------------------
    def _reject_batch(
        self, entity: Entity, manifest: Manifest, result: LoadResult, exc: _BatchInvalid
    ) -> None:
        data = manifest.data_path.read_bytes()
        records: Iterator[Record]
        if manifest.format == "csv":
            # a file without a header: its first line is data and is accounted for too
            _, records = read_csv(data, has_header=exc.rule not in HEADER_RULES)
        else:
            records = read_jsonl(data)
        rejects = [
            _Reject(r.line, None, None, exc.rule, f"batch rejected: {exc}", r.raw) for r in records
        ]
        self._write_rejects(manifest, rejects)
        result.status = "rejected"
        result.error = str(exc)
        result.rows_in = result.rows_rejected = len(rejects)
        result.rows_loaded = 0
        result.rejects_by_rule = {exc.rule: len(rejects)} if rejects else {}

    def _write_rejects(self, manifest: Manifest, rejects: list[_Reject]) -> None:
        m = manifest
        copy_rejects(
            self.conn,
            (
                (
                    m.batch_id,
                    m.source,
                    m.entity,
                    m.file,
                    r.line,
                    r.column,
                    r.value,
                    r.rule,
                    r.reason,
                    r.record,
                )
                for r in rejects
            ),
        )

    def _record_load(self, manifest: Manifest, result: LoadResult) -> None:
        self.conn.execute(
            sql.SQL(
                "insert into {} (batch_id, source, entity, partition_date, file, format, sha256,"
                " schema_version, landed_at, status, error, rows_in, rows_loaded, rows_rejected,"
                " bytes, seconds, method, extra_columns, missing_columns)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s)"
            ).format(sql.Identifier(SCHEMA, LOADS_TABLE)),
            (
                manifest.batch_id,
                manifest.source,
                manifest.entity,
                manifest.partition_date,
                manifest.file,
                manifest.format,
                manifest.sha256,
                manifest.schema_version,
                manifest.landed_at,
                result.status,
                result.error,
                result.rows_in,
                result.rows_loaded,
                result.rows_rejected,
                result.bytes,
                result.seconds,
                result.method,
                result.extra_columns,
                result.missing_columns,
            ),
        )


def copy_rejects(conn: Connection, rows: Iterable[tuple]) -> int:
    """COPY rows of `REJECT_COLUMNS` into `raw._rejects`: the one writer of rejects, for landed
    batches and Kafka events alike. Returns how many were written."""
    target = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(SCHEMA, REJECTS_TABLE),
        sql.SQL(", ").join(map(sql.Identifier, REJECT_COLUMNS)),
    )
    written = 0
    with conn.cursor().copy(target) as copy:
        for batch, source, entity, file, line, column, value, rule, reason, record in rows:
            copy.write_row(
                (
                    batch,
                    source,
                    entity,
                    file,
                    line,
                    column,
                    printable(value),
                    rule,
                    printable(reason),
                    printable(record),
                )
            )
            written += 1
    return written


def printable(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL; keep the evidence visible instead."""
    return None if text is None else text.replace("\x00", "\\x00")
