"""The landing layout shared by NiFi (production) and `sdp generate` / `sdp land` (embedded).

`$SDP_LANDING/<source>/<entity>/dt=YYYY-MM-DD/<batch_id>.<csv|jsonl>` plus
`<batch_id>.manifest.json`, written last and atomically: a reader that sees a manifest sees the
whole file. The manifest's sha256 and row count let the loader prove the file is the one landed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

MANIFEST_SUFFIX = ".manifest.json"
FORMATS = ("csv", "jsonl")
BATCH_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MANIFEST_FIELDS = (
    "batch_id",
    "source",
    "entity",
    "partition_date",
    "file",
    "rows",
    "sha256",
    "schema_version",
    "landed_at",
)


class ManifestError(ValueError):
    """A manifest that cannot be trusted: the whole batch is rejected."""


@dataclass(frozen=True)
class Manifest:
    batch_id: str
    source: str
    entity: str
    partition_date: str
    file: str
    rows: int
    sha256: str
    schema_version: int
    landed_at: str
    path: Path | None = None  # where the manifest was read from; not serialised

    @property
    def data_path(self) -> Path:
        if self.path is None:
            raise ManifestError(f"manifest {self.batch_id} was not read from disk")
        return self.path.parent / self.file

    @property
    def format(self) -> str:
        return "jsonl" if self.file.endswith(".jsonl") else "csv"

    def to_json(self) -> str:
        body = {k: v for k, v in asdict(self).items() if k != "path"}
        return json.dumps(body, indent=2, sort_keys=False) + "\n"


def partition_dir(landing: Path, source: str, entity: str, day: date | str) -> Path:
    return landing / source / entity / f"dt={day if isinstance(day, str) else day.isoformat()}"


def read_manifest(path: Path) -> Manifest:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: unreadable manifest: {exc}") from exc
    if not isinstance(body, dict):
        raise ManifestError(f"{path}: a manifest is a JSON object")
    return manifest_from_fields(body, str(path), path)


def manifest_from_fields(body: dict, where: str, path: Path | None = None) -> Manifest:
    """A manifest from its fields (a file's or an event's), checked as the loader needs them."""
    missing = [f for f in MANIFEST_FIELDS if f not in body]
    if missing:
        raise ManifestError(f"{where}: manifest lacks {', '.join(missing)}")
    try:
        manifest = Manifest(
            batch_id=str(body["batch_id"]),
            source=str(body["source"]),
            entity=str(body["entity"]),
            partition_date=date.fromisoformat(str(body["partition_date"])).isoformat(),
            file=str(body["file"]),
            rows=int(body["rows"]),
            sha256=str(body["sha256"]).lower(),
            schema_version=int(body["schema_version"]),
            landed_at=datetime.fromisoformat(str(body["landed_at"])).isoformat(),
            path=path,
        )
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: bad manifest field: {exc}") from exc
    if not BATCH_ID_PATTERN.match(manifest.batch_id):
        raise ManifestError(f"{where}: batch_id {manifest.batch_id!r} is not a safe identifier")
    if os.sep in manifest.file or manifest.file.startswith("."):
        raise ManifestError(f"{where}: file {manifest.file!r} must sit beside its manifest")
    if manifest.format not in FORMATS or not manifest.file.endswith(f".{manifest.format}"):
        raise ManifestError(f"{where}: file {manifest.file!r} is neither .csv nor .jsonl")
    return manifest


def iter_manifests(
    landing: Path, source: str | None = None, entity: str | None = None, day: str | None = None
) -> Iterator[Path]:
    """Manifest paths under the landing root, in a stable order (source, entity, day, batch)."""
    pattern = f"{source or '*'}/{entity or '*'}/dt={day or '*'}/*{MANIFEST_SUFFIX}"
    yield from sorted(landing.glob(pattern))


class BatchWriter:
    """Streams one batch to its landing file, then writes the manifest last.

    Rows are mappings of column name to text (None for empty). The file is written under a
    temporary name and renamed, so a crash never leaves a manifest pointing at half a file.
    """

    def __init__(
        self,
        landing: Path,
        source: str,
        entity: str,
        partition_date: date,
        batch_id: str,
        columns: list[str],
        fmt: str = "csv",
        schema_version: int = 1,
        landed_at: datetime | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r} is not one of {FORMATS}")
        if not BATCH_ID_PATTERN.match(batch_id):
            raise ValueError(f"batch_id {batch_id!r} is not a safe identifier")
        self.dir = partition_dir(landing, source, entity, partition_date)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.source, self.entity, self.batch_id = source, entity, batch_id
        self.partition_date = partition_date
        self.columns = list(columns)
        self.fmt = fmt
        self.schema_version = schema_version
        self.landed_at = landed_at or datetime.now().astimezone()
        self.file_name = f"{batch_id}.{fmt}"
        self._tmp = self.dir / f".{self.file_name}.tmp"
        self._fh = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()
        self._sha = hashlib.sha256()
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="\n")
        self.rows = 0
        if fmt == "csv":
            self._csv.writerow(self.columns)
            self._flush()

    def _flush(self) -> None:
        data = self._buf.getvalue().encode("utf-8")
        self._buf.seek(0)
        self._buf.truncate()
        self._fh.write(data)
        self._sha.update(data)

    def write(self, row: Mapping[str, object]) -> None:
        values = [row.get(c) for c in self.columns]
        if self.fmt == "csv":
            self._csv.writerow(["" if v is None else v for v in values])
        else:
            record = {c: v for c, v in zip(self.columns, values, strict=True) if v is not None}
            self._buf.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.rows += 1
        if self._buf.tell() > 1 << 20:
            self._flush()

    def write_raw(self, data: bytes, rows: int) -> None:
        """Append bytes as they are (used to land deliberately malformed content)."""
        self._flush()
        self._fh.write(data)
        self._sha.update(data)
        self.rows += rows

    def close(self) -> Manifest:
        self._flush()
        self._fh.close()
        final = self.dir / self.file_name
        os.replace(self._tmp, final)
        manifest = Manifest(
            batch_id=self.batch_id,
            source=self.source,
            entity=self.entity,
            partition_date=self.partition_date.isoformat(),
            file=self.file_name,
            rows=self.rows,
            sha256=self._sha.hexdigest(),
            schema_version=self.schema_version,
            landed_at=self.landed_at.isoformat(),
        )
        write_manifest(self.dir, manifest)
        return Manifest(
            **{**asdict(manifest), "path": self.dir / (self.batch_id + MANIFEST_SUFFIX)}
        )

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)


def write_manifest(directory: Path, manifest: Manifest) -> Path:
    path = directory / f"{manifest.batch_id}{MANIFEST_SUFFIX}"
    tmp = directory / f".{manifest.batch_id}{MANIFEST_SUFFIX}.tmp"
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(tmp, path)
    return path


def land_file(
    landing: Path,
    source: str,
    entity: str,
    partition_date: date,
    batch_id: str,
    content: bytes,
    rows: int,
    fmt: str = "csv",
    landed_at: datetime | None = None,
) -> Manifest:
    """Land a file's bytes as they are, with the manifest its sender would write."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {FORMATS}")
    directory = partition_dir(landing, source, entity, partition_date)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{batch_id}.{fmt}"
    tmp = directory / f".{name}.tmp"
    tmp.write_bytes(content)
    os.replace(tmp, directory / name)
    manifest = Manifest(
        batch_id=batch_id,
        source=source,
        entity=entity,
        partition_date=partition_date.isoformat(),
        file=name,
        rows=rows,
        sha256=hashlib.sha256(content).hexdigest(),
        schema_version=1,
        landed_at=(landed_at or datetime.now().astimezone()).isoformat(),
    )
    path = write_manifest(directory, manifest)
    return Manifest(**{**asdict(manifest), "path": path})
