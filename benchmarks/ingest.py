"""Raw load throughput against a plain COPY of the same file, measured in the same run.

Goal: the loader (contract checks, duplicate-key check, sha256, rejects bookkeeping) keeps at
least 0.7 of the rows per second of a bare `COPY ... FROM STDIN` into an identical table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from sdp.contracts import load_contract
from sdp.db import connect, scratch_database
from sdp.ingest.loader import BatchLoader
from sdp.landing import BatchWriter, Manifest
from sdp.runtime.services import warehouse_url
from sdp.settings import load_settings

DAY = date(2026, 10, 27)


def write_cdrs(landing: Path, rows: int) -> Manifest:
    entity = load_contract().entity("cdr", "records")
    rng = random.Random(7)
    start = datetime(2026, 10, 27, tzinfo=UTC)
    writer = BatchWriter(
        landing,
        "cdr",
        "records",
        DAY,
        "bench-cdr-001",
        list(entity.column_names),
        landed_at=start,
    )
    for i in range(rows):
        service = rng.choice(("voice", "voice", "sms", "data"))
        writer.write(
            {
                "cdr_id": f"CDR{i:012d}",
                "msisdn": f"+4477009{rng.randrange(100000):05d}",
                "called_number": None if service == "data" else f"+4477009{i % 99999:05d}",
                "event_time": (start + timedelta(seconds=i % 86400)).isoformat(),
                "service_type": service,
                "duration_s": str(rng.randrange(1, 900)) if service == "voice" else None,
                "volume_mb": f"{rng.random() * 200:.3f}" if service == "data" else None,
                "call_result": "answered",
                "cell_id": f"CELL-{rng.randrange(2000):04d}",
                "network_element_id": f"MSC-{rng.randrange(20):02d}",
            }
        )
    return writer.close()


def plain_copy(conn: psycopg.Connection, path: Path) -> float:
    conn.execute("drop table if exists bench_plain")
    conn.execute("create table bench_plain (like raw.cdr_records including all)")
    started = time.perf_counter()
    with conn.transaction():
        conn.execute("select set_config('sdp.batch_id', 'plain', true)")
        conn.execute("select set_config('sdp.file', 'plain', true)")
        with (
            path.open("rb") as fh,
            conn.cursor().copy(
                "copy bench_plain (cdr_id, msisdn, called_number, event_time, service_type, "
                "duration_s, volume_mb, call_result, cell_id, network_element_id) "
                "from stdin (format csv, header true)"
            ) as copy,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
    return time.perf_counter() - started


def raw_load(conn: psycopg.Connection, manifest: Manifest) -> float:
    conn.execute("truncate raw.cdr_records, raw._loads, raw._rejects")
    result = BatchLoader(conn).load(manifest.path, force=True)
    assert result.status == "loaded" and result.method == "copy", result
    return result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    admin_url = warehouse_url(load_settings())
    with (
        scratch_database(admin_url, "bench") as url,
        tempfile.TemporaryDirectory() as tmp,
        connect(url) as conn,
    ):
        t0 = time.perf_counter()
        manifest = write_cdrs(Path(tmp), args.rows)
        print(
            f"wrote {args.rows:,} CDRs ({manifest.data_path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t0:.1f}s"
        )
        plain, loader = [], []
        for _ in range(args.repeat):
            plain.append(plain_copy(conn, manifest.data_path))
            loader.append(raw_load(conn, manifest))
    plain_rate = args.rows / statistics.median(plain)
    loader_rate = args.rows / statistics.median(loader)
    print(f"plain COPY:  {plain_rate:>12,.0f} rows/s  (median of {args.repeat})")
    print(f"raw loader:  {loader_rate:>12,.0f} rows/s  (median of {args.repeat})")
    print(f"ratio:       {loader_rate / plain_rate:>12.2f}  (goal >= 0.70)")


if __name__ == "__main__":
    main()
