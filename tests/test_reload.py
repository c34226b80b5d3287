"""Loading is idempotent per batch_id, and both load paths store the same rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from sdp.ingest.loader import BatchLoader
from sdp.landing import land_file

HEADER = "customer_id,first_name,last_name,segment,created_at,updated_at,email,phone"


def customers(n: int, start: int = 0, extra: str = "") -> bytes:
    rows = [
        f"C{i:07d},Ann{extra},Smith,consumer,2026-10-01T09:00:00Z,2026-10-01T09:00:00+01:00,"
        f"ann{i}@example.org,07700 900{i % 1000:03d}"
        for i in range(start, start + n)
    ]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def snapshot(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select customer_id, first_name, updated_at, email, phone, batch_id, file, line"
        " from raw.crm_customers order by batch_id, line"
    ).fetchall()


@pytest.fixture
def loader(conn: psycopg.Connection) -> BatchLoader:
    return BatchLoader(conn)


def land(landing: Path, batch_id: str, content: bytes, rows: int) -> Path:
    manifest = land_file(landing, "crm", "customers", date(2026, 10, 27), batch_id, content, rows)
    assert manifest.path is not None
    return manifest.path


def test_loading_the_same_batches_twice_leaves_identical_tables(landing, conn, loader):
    paths = [land(landing, f"crm-{i}", customers(50, i * 50), 50) for i in range(3)]
    for path in paths:
        loader.load(path)
    first = snapshot(conn)
    for path in paths:
        assert loader.load(path).status == "unchanged"
        loader.load(path, force=True)
    assert snapshot(conn) == first
    assert conn.execute("select count(*) from raw._loads").fetchone()[0] == 3


def test_a_relanded_batch_replaces_its_earlier_rows(landing, conn, loader):
    loader.load(land(landing, "crm-x", customers(10), 10))
    result = loader.load(land(landing, "crm-x", customers(4, extra="e"), 4))
    assert result.rows_loaded == 4
    rows = snapshot(conn)
    assert len(rows) == 4 and all(r[1] == "Anne" for r in rows)


def test_fast_and_validated_paths_store_identical_rows(landing, conn, loader):
    clean = loader.load(land(landing, "crm-clean", customers(200), 200))
    assert clean.method == "copy"
    fast = snapshot(conn)
    # one quoted field sends the same rows through the validated path
    quoted = customers(200).replace(b"Smith,consumer", b'"Smith",consumer', 1)
    slow = loader.load(land(landing, "crm-clean", quoted, 200))
    assert slow.method == "validated" and slow.rows_loaded == 200
    assert snapshot(conn) == fast


def test_a_duplicate_key_in_a_clean_file_takes_the_exact_path(landing, conn, loader):
    content = customers(5) + customers(1, 2)[len(HEADER) + 1 :]
    result = loader.load(land(landing, "crm-dup", content, 6))
    assert result.method == "validated"
    assert (result.rows_loaded, result.rows_rejected) == (5, 1)
    assert result.rejects_by_rule == {"duplicate_key": 1}


TARIFF_HEADER = "plan_code,plan_name,service_type,unit,unit_price,monthly_fee,currency,valid_from"


def tariffs(*rows: str) -> bytes:
    return ("\n".join([TARIFF_HEADER, *rows]) + "\n").encode()


def test_composite_keys_are_checked_on_every_key_column(landing, conn, loader):
    day = date(2026, 10, 27)
    distinct = tariffs(
        "P1,Basic,voice,minute,0.05,10,GBP,2026-01-01",
        "P1,Basic,voice,minute,0.06,10,GBP,2026-11-01",
        "P1,Basic,sms,message,0.02,10,GBP,2026-01-01",
    )
    first = land_file(landing, "erp", "tariff_plans", day, "tariffs-1", distinct, 3)
    assert BatchLoader(conn).load(first.path).method == "copy"
    repeated = tariffs(
        "P1,Basic,voice,minute,0.05,10,GBP,2026-01-01",
        "P1,Basic,voice,minute,0.07,10,GBP,2026-01-01",
    )
    second = land_file(landing, "erp", "tariff_plans", day, "tariffs-2", repeated, 2)
    result = BatchLoader(conn).load(second.path)
    assert result.method == "validated" and result.rejects_by_rule == {"duplicate_key": 1}
