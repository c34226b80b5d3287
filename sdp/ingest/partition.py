"""Load every landed batch of one entity and day: what a raw asset partition materializes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from psycopg import Connection

from sdp.contracts import Entity
from sdp.ingest.loader import BatchLoader, LoadResult
from sdp.landing import iter_manifests


@dataclass
class PartitionLoad:
    entity: str
    partition_date: str
    batches: list[LoadResult] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(b.rows_loaded for b in self.batches)

    @property
    def rows_rejected(self) -> int:
        return sum(b.rows_rejected for b in self.batches)

    @property
    def rows_in(self) -> int:
        return sum(b.rows_in for b in self.batches)

    @property
    def seconds(self) -> float:
        return sum(b.seconds for b in self.batches)

    @property
    def rejected_batches(self) -> list[LoadResult]:
        return [b for b in self.batches if b.status == "rejected"]


def load_partition(
    conn: Connection,
    landing: Path,
    entity: Entity,
    day: str,
    log: Callable[[str], None] = lambda _: None,
    batch_ids: set[str] | None = None,
    force: bool = False,
) -> PartitionLoad:
    """Batches load in landing order; `batch_ids` narrows the load to the named batches.

    Batches already loaded with the same content are skipped (and not listed), so re-running a
    day is cheap; `force` reloads them.
    """
    loader = BatchLoader(conn)
    outcome = PartitionLoad(entity.qualified, day)
    manifests = list(iter_manifests(landing, entity.source, entity.name, day))
    for path in manifests:
        batch_id = path.name.removesuffix(".manifest.json")
        if batch_ids is not None and batch_id not in batch_ids:
            continue
        result = loader.load(path, force=force)
        if result.status == "unchanged":
            log(f"{entity.qualified} {day} {result.batch_id}: already loaded, unchanged")
            continue
        outcome.batches.append(result)
        log(
            f"{entity.qualified} {day} {result.batch_id}: {result.status}, "
            f"{result.rows_loaded} loaded, {result.rows_rejected} rejected "
            f"({result.method}, {result.seconds:.2f}s)"
        )
    return outcome
