"""Batches as the operator's feeds land them: batch ids, landing times, column layouts.

Every file goes through `sdp.landing.BatchWriter` (file, then manifest). This module decides
what the landing contract leaves to the feed: the batch id
(`<source>-<entity>-<yyyymmdd>[-<element>]-<seq>`), when it landed (the next night, at a time
of its source; never the wall clock, so reruns are byte-identical), and the column order, which
some producers choose for themselves (the market's `layouts`). The batch-level defects (late
landing, schema drift) hook in here because they change nothing but how a batch is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

from sdp.contracts import Contract
from sdp.generator.batch_defects import BatchDefects, FeedKey
from sdp.generator.clock import DAY, HOUR, Window
from sdp.generator.topology import Element
from sdp.landing import BatchWriter

# when each source's nightly batches land, after the end of their partition day (h, min)
LANDING_TIME = {"oss": (0, 40), "cdr": (1, 10), "crm": (1, 30), "billing": (2, 30), "erp": (3, 0)}


def default_landed_at(source: str, day: int) -> int:
    hours, minutes = LANDING_TIME[source]
    return (day + 1) * DAY + hours * HOUR + minutes * 60


class Batch:
    """One batch being written; rows are dicts keyed by the contract's column names."""

    def __init__(
        self,
        writer: BatchWriter,
        rename: Mapping[str, str],
        add: Mapping[str, str],
        on_close: Callable[[BatchWriter], None],
    ) -> None:
        self._writer = writer
        self._on_close = on_close
        self.write: Callable[[dict[str, object]], None]
        if rename or add:
            extra = dict(add)
            pairs = tuple(rename.items())

            def drifted(row: dict[str, object]) -> None:
                for old, new in pairs:
                    row[new] = row.pop(old, None)
                row.update(extra)
                writer.write(row)

            self.write = drifted
        else:
            self.write = writer.write

    @property
    def batch_id(self) -> str:
        return self._writer.batch_id

    def close(self) -> None:
        self._writer.close()
        self._on_close(self._writer)

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._writer.__exit__(exc_type, exc, tb)


class Landing:
    """Opens batches under the landing root and counts what was written."""

    def __init__(
        self,
        root: Path,
        window: Window,
        contract: Contract,
        defects: BatchDefects,
        layouts: Mapping[tuple[str, str, str | None], tuple[str, ...]],
    ) -> None:
        self.root = root
        self.window = window
        self.layouts = layouts
        self.contract = contract
        self.defects = defects
        self.rows: Counter[str] = Counter()
        self.batches = 0

    def open(
        self,
        source: str,
        entity: str,
        day: int,
        *,
        element: Element | None = None,
        seq: int = 1,
        fmt: str = "csv",
        landed_at: int | None = None,
    ) -> Batch:
        """A batch of `day`'s partition (of one mediated element's feed for CDRs); `landed_at`
        (seconds from the window start) defaults to the source's nightly landing time."""
        on = self.window.date_of(day)
        feed = f"-{element.id.lower()}" if element else ""
        batch_id = f"{source}-{entity}-{on:%Y%m%d}{feed}-{seq:03d}"
        key = FeedKey(source, entity, day, element.id if element else None, seq)
        columns = list(
            self.layouts.get((source, entity, element.type if element else None))
            or self.contract.entity(source, entity).column_names
        )
        rename, add = self.defects.drift(key)
        columns = [rename.get(c, c) for c in columns] + list(add)
        landed = landed_at if landed_at is not None else default_landed_at(source, day)
        landed += self.defects.delay(key)
        writer = BatchWriter(
            self.root,
            source,
            entity,
            on,
            batch_id,
            columns,
            fmt=fmt,
            landed_at=self.window.at(landed),
        )

        def closed(done: BatchWriter) -> None:
            self.rows[f"{source}_{entity}"] += done.rows
            self.batches += 1
            self.defects.landed(key, done.batch_id, done.rows, landed)

        return Batch(writer, rename, add, closed)
