"""Bad inputs never lose a row: rows in = rows in raw + rows in raw._rejects, each with a reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import psycopg
import pytest

from sdp.ingest.loader import BatchLoader
from sdp.landing import ManifestError, land_file, read_manifest, write_manifest

DAY = date(2026, 10, 27)
CDR_HEADER = (
    "cdr_id,msisdn,called_number,event_time,service_type,duration_s,volume_mb,call_result,"
    "cell_id,network_element_id"
)


def cdr_line(cdr_id: str, **over: str) -> str:
    row = {
        "cdr_id": cdr_id,
        "msisdn": "+447700900123",
        "called_number": "+447700900456",
        "event_time": "2026-10-27T10:15:00Z",
        "service_type": "voice",
        "duration_s": "61",
        "volume_mb": "",
        "call_result": "answered",
        "cell_id": "CELL-001",
        "network_element_id": "MSC-01",
    }
    row.update(over)
    return ",".join(row[c] for c in CDR_HEADER.split(","))


def land(
    landing: Path,
    batch_id: str,
    content: bytes,
    rows: int,
    entity=("cdr", "records"),
    fmt: str = "csv",
) -> Path:
    manifest = land_file(landing, *entity, DAY, batch_id, content, rows, fmt=fmt)
    assert manifest.path is not None
    return manifest.path


def counts(conn: psycopg.Connection, batch_id: str, table: str = "cdr_records") -> tuple[int, int]:
    loaded = conn.execute(
        f"select count(*) from raw.{table} where batch_id = %s", (batch_id,)
    ).fetchone()[0]
    rejected = conn.execute(
        "select count(*) from raw._rejects where batch_id = %s", (batch_id,)
    ).fetchone()[0]
    return loaded, rejected


def rejects(conn: psycopg.Connection, batch_id: str) -> list[tuple]:
    return conn.execute(
        "select line, column_name, rule, reason from raw._rejects where batch_id = %s"
        " order by line",
        (batch_id,),
    ).fetchall()


@pytest.fixture
def loader(conn: psycopg.Connection) -> BatchLoader:
    return BatchLoader(conn)


def csv_bytes(*lines: str, header: str = CDR_HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


CASES = {
    # name: (file content, rows in, expected rows loaded, {line: (column, rule)})
    "wrong_column_count": (
        csv_bytes(cdr_line("A1"), cdr_line("A2") + ",surplus", "A3,+447700900123"),
        3,
        1,
        {3: (None, "field_count"), 4: (None, "field_count")},
    ),
    "unparseable_dates_and_numbers": (
        csv_bytes(
            cdr_line("B1", event_time="27/10/2026 10:15"),
            cdr_line("B2", duration_s="sixty"),
            cdr_line("B3", service_type="data", duration_s="", volume_mb="1.23456"),
            cdr_line("B4"),
        ),
        4,
        1,
        {
            2: ("event_time", "invalid_value"),
            3: ("duration_s", "invalid_value"),
            4: ("volume_mb", "invalid_value"),
        },
    ),
    "unknown_enum_values": (
        csv_bytes(
            cdr_line("C1", call_result="ANSWERED"),
            cdr_line("C2", service_type="fax"),
            cdr_line("C3"),
        ),
        3,
        1,
        {2: ("call_result", "invalid_value"), 3: ("service_type", "invalid_value")},
    ),
    "missing_required_value": (
        csv_bytes(
            cdr_line("D1", msisdn=""), cdr_line("D2", network_element_id="  "), cdr_line("D3")
        ),
        3,
        1,
        {2: ("msisdn", "missing_required"), 3: ("network_element_id", "missing_required")},
    ),
    "non_utf8_bytes": (
        csv_bytes(cdr_line("E1"), cdr_line("E2"))
        .replace(b"CELL-001\nE2", b"CELL-001\nE2")
        .replace(b"E2,", b"E\xff2,"),
        2,
        1,
        {3: (None, "not_utf8")},
    ),
    "duplicate_keys_within_batch": (
        csv_bytes(cdr_line("F1"), cdr_line("F2"), cdr_line("F1", duration_s="5")),
        3,
        2,
        {4: ("cdr_id", "duplicate_key")},
    ),
    "quoted_newlines": (
        csv_bytes(
            cdr_line("G1", cell_id='"CELL\n001"'),
            cdr_line("G2"),
            cdr_line("G3", event_time='"not a\ntime"'),
        ),
        3,
        2,
        {5: ("event_time", "invalid_value")},
    ),
    "extra_column_tolerated": (
        csv_bytes(cdr_line("H1") + ",x", cdr_line("H2") + ",y", header=CDR_HEADER + ",probe_id"),
        2,
        2,
        {},
    ),
    "missing_optional_column": (
        csv_bytes(
            "I1,+447700900123,2026-10-27T10:15:00+02:00,voice,61,answered,MSC-01",
            header="cdr_id,msisdn,event_time,service_type,duration_s,call_result,network_element_id",
        ),
        1,
        1,
        {},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_rows_are_rejected_with_reasons_and_nothing_is_lost(case, landing, conn, loader):
    content, rows_in, expected_loaded, expected = CASES[case]
    result = loader.load(land(landing, case.replace("_", "-"), content, rows_in))
    loaded, rejected = counts(conn, result.batch_id)
    assert result.status == "loaded"
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (rows_in, loaded, rejected)
    assert loaded + rejected == rows_in
    assert loaded == expected_loaded
    got = {line: (column, rule) for line, column, rule, _ in rejects(conn, result.batch_id)}
    assert got == expected
    assert all(reason for *_, reason in rejects(conn, result.batch_id))


def test_extra_and_missing_columns_are_reported(landing, conn, loader):
    extra = loader.load(land(landing, "extra", CASES["extra_column_tolerated"][0], 2))
    assert extra.extra_columns == ["probe_id"]
    missing = loader.load(land(landing, "missing", CASES["missing_optional_column"][0], 1))
    assert set(missing.missing_columns) == {"called_number", "volume_mb", "cell_id"}
    offset = conn.execute(
        "select event_time = '2026-10-27 08:15:00+00' from raw.cdr_records where cdr_id = 'I1'"
    ).fetchone()[0]
    assert offset, "a +02:00 offset is stored as the same instant"


def test_rows_lines_point_at_the_source_line(landing, conn, loader):
    result = loader.load(land(landing, "lines", CASES["quoted_newlines"][0], 3))
    lines = dict(
        conn.execute(
            "select cdr_id, line from raw.cdr_records where batch_id = %s", (result.batch_id,)
        ).fetchall()
    )
    assert lines == {"G1": 2, "G2": 4}


@pytest.mark.parametrize(
    "name,content,rows_in,reason",
    [
        ("empty-file", b"", 0, "empty file, no header row"),
        ("no-header", csv_bytes(cdr_line("J1"), header=cdr_line("J0")), 2, "no header row"),
        (
            "missing-required-column",
            csv_bytes("K1,2026-10-27T10:00:00Z", header="cdr_id,event_time"),
            1,
            "required column(s) msisdn, service_type, call_result, network_element_id missing",
        ),
    ],
)
def test_files_without_a_usable_header_are_rejected_whole(
    landing, conn, loader, name, content, rows_in, reason
):
    result = loader.load(land(landing, name, content, rows_in))
    assert result.status == "rejected"
    assert reason in (result.error or "")
    assert name + ".csv" in (result.error or "")
    loaded, rejected = counts(conn, name)
    assert (loaded, rejected) == (0, rows_in)


def test_manifest_sha_mismatch_rejects_the_batch_naming_file_and_mismatch(landing, conn, loader):
    path = land(landing, "tampered", csv_bytes(cdr_line("L1"), cdr_line("L2")), 2)
    data_file = path.parent / "tampered.csv"
    data_file.write_bytes(data_file.read_bytes().replace(b"L2", b"L3"))
    result = loader.load(path)
    assert result.status == "rejected"
    assert "tampered.csv: sha256 is" in (result.error or "")
    assert "but manifest tampered says" in (result.error or "")
    assert counts(conn, "tampered") == (0, 2)
    status = conn.execute("select status from raw._loads where batch_id = 'tampered'").fetchone()
    assert status == ("rejected",)


def test_manifest_row_count_mismatch_rejects_the_batch(landing, conn, loader):
    result = loader.load(land(landing, "short", csv_bytes(cdr_line("M1"), cdr_line("M2")), 5))
    assert result.status == "rejected"
    assert "holds 2 rows but manifest short says 5" in (result.error or "")
    assert counts(conn, "short") == (0, 2)


def test_jsonl_records_load_and_malformed_lines_are_rejected(landing, conn, loader):
    good = {
        "cdr_id": "N1",
        "msisdn": "+447700900123",
        "event_time": "2026-10-27T10:00:00",
        "service_type": "data",
        "volume_mb": 12.5,
        "call_result": "answered",
        "network_element_id": "PGW-01",
        "apn": "internet",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({**good, "cdr_id": "N2", "volume_mb": True}),
        json.dumps({**good, "cdr_id": "N3", "service_type": None}),
    ]
    content = ("\n".join(lines) + "\n").encode()
    result = loader.load(land(landing, "jsonl", content, 5, fmt="jsonl"))
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (5, 1, 4)
    assert result.extra_columns == ["apn"]
    rules = [rule for _, _, rule, _ in rejects(conn, "jsonl")]
    assert rules == ["bad_json", "bad_json", "invalid_value", "missing_required"]
    stamp = conn.execute("select event_time from raw.cdr_records where cdr_id = 'N1'").fetchone()[0]
    assert stamp.utcoffset().total_seconds() == 0 and stamp.hour == 10


def test_an_unreadable_manifest_is_an_error_naming_it(landing, loader):
    directory = landing / "cdr" / "records" / "dt=2026-10-27"
    directory.mkdir(parents=True)
    (directory / "broken.manifest.json").write_text("{")
    with pytest.raises(ManifestError, match=r"broken\.manifest\.json"):
        loader.load(directory / "broken.manifest.json")


def test_a_manifest_for_an_unknown_entity_is_an_error(landing, loader):
    path = land(landing, "ghost", csv_bytes(cdr_line("O1")), 1)
    body = json.loads(path.read_text())
    body["entity"] = "ghosts"
    manifest = read_manifest(path)
    write_manifest(path.parent, manifest.__class__(**{**body, "path": None}))
    with pytest.raises(ManifestError, match=r"no entity cdr\.ghosts"):
        loader.load(path)
