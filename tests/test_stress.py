"""Concurrency through the real Dagster instance and the multiprocess executor, the path
`make run` takes: the whole graph for a range of days (`sdp materialize`), while two more runs
re-load overlapping raw partitions whose batches were landed again, while the landing sensor
requests runs of its own. No run may fail, and every raw and controls table must end equal,
row for row, to a serial in-process build of the same landing.

`make test` runs one round; `make stress` runs SDP_STRESS_ROUNDS=5 in a row.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from instance import own_platform, wait_for

from orchestration.inprocess import build_landed_days
from sdp.db import connect
from sdp.generator import generate
from sdp.landing import iter_manifests, land_file, read_manifest

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(os.environ.get("SDP_STRESS_ROUNDS", "1"))
LINEAGE = {"batch_id", "file", "line", "loaded_at"}
# what a load's bookkeeping says about its batch, not when or how fast it ran
LOADS = (
    "batch_id, source, entity, partition_date, file, format, sha256, status, error, rows_in,"
    " rows_loaded, rows_rejected, bytes, method, extra_columns, missing_columns"
)
REJECTS = "batch_id, source, entity, file, line, column_name, value, rule, reason, record"


def reland(landing: Path, manifest_path: Path) -> str:
    """The same batch sent again as its system writes files on another day: CRLF line ends."""
    manifest = read_manifest(manifest_path)
    data = manifest.data_path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    land_file(
        landing,
        manifest.source,
        manifest.entity,
        date.fromisoformat(manifest.partition_date),
        manifest.batch_id,
        data,
        manifest.rows,
        manifest.format,
    )
    return manifest.batch_id


def relanded(landing: Path, days: list[str]) -> tuple[list[Path], list[Path]]:
    """(the batches the two re-load runs pick up, the one only the sensor does)."""
    by_day = [
        [
            p
            for e in ("cdr/records", "billing/usage")
            for p in iter_manifests(landing, *e.split("/"), d)
        ][:2]
        for d in days
    ]
    return [p for day in by_day[1:] for p in day], by_day[0][:1]


def digests(url: str) -> dict[str, str]:
    """An order-free digest of every raw and controls table, lineage and timings aside."""
    out = {}
    with connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('raw', 'controls') order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            if table == "_loads":
                columns = LOADS
            elif table == "_rejects":
                columns = REJECTS
            else:
                names = [
                    c
                    for (c,) in conn.execute(
                        "select column_name from information_schema.columns"
                        " where table_schema = %s and table_name = %s order by ordinal_position",
                        (schema, table),
                    )
                    if not (schema == "raw" and c in LINEAGE)
                ]
                columns = ", ".join(f'"{c}"' for c in names)
            out[f"{schema}.{table}"] = conn.execute(
                "select count(*) || ':' || coalesce(md5(string_agg(r::text, '|'"
                f' order by r::text)), \'\') from (select {columns} from "{schema}"."{table}") as r'
            ).fetchone()[0]
    return out


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> tuple[Path, list[str]]:
    landing = tmp_path_factory.mktemp("stress") / "landing"
    generate(ROOT / "scenarios" / "default.yaml", landing, customers=200, days=2)
    days = sorted(p.name[3:] for p in landing.glob("cdr/records/dt=*"))
    return landing, days


@pytest.fixture(scope="module")
def serial(scenario, scratch_db, tmp_path_factory) -> dict[str, str]:
    """The reference: the final landing (every re-landed batch in its second form), built in
    one process, one step after another."""
    template, days = scenario
    landing = tmp_path_factory.mktemp("serial") / "landing"
    shutil.copytree(template, landing)
    reloaded, sensed = relanded(landing, days)
    for path in reloaded + sensed:
        reland(landing, path)
    with scratch_db() as url:
        outcome = build_landed_days(url, landing, days)
        assert outcome.success, [e.message for e in outcome.all_events if e.is_failure]
        yield digests(url)


@pytest.mark.parametrize("round_", range(1, ROUNDS + 1))
def test_concurrent_runs_end_where_a_serial_build_does(
    round_, scenario, serial, server_url, tmp_path
):
    template, days = scenario
    with own_platform(server_url, tmp_path) as platform:
        shutil.copytree(template, platform.landing, dirs_exist_ok=True)
        batches = len(list(iter_manifests(platform.landing)))
        platform.start_daemon()
        whole = platform.spawn("sdp", "materialize")

        def raw_loaded() -> bool:
            with connect(platform.warehouse) as conn:
                return conn.execute("select count(*) from raw._loads").fetchone()[0] >= batches

        wait_for(raw_loaded, 600, "the whole-graph run's raw loads")
        reloaded, sensed = relanded(platform.landing, days)
        for path in reloaded + sensed:
            reland(platform.landing, path)
        sensor = platform.run(
            "dagster", "sensor", "start", "landing_folder_sensor", "-w", "workspace.yaml"
        )
        assert sensor.returncode == 0, sensor.stderr
        started = time.monotonic()
        # both on the day whose batches were landed again: each other's overlap, and the whole run's
        reloads = [
            platform.spawn("sdp", "materialize", "--select", "group:raw", "--partition", days[-1])
            for _ in range(2)
        ]
        codes = [p.wait(timeout=1800) for p in (whole, *reloads)]
        assert codes == [0, 0, 0], f"round {round_}: exit codes {codes}, logs in {platform.logs}"

        def settled() -> bool:
            runs = platform.runs()
            busy = [
                s for s in runs.values() if s in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED")
            ]
            sensed_runs = platform.sensor_runs("landing_folder_sensor")
            return time.monotonic() - started > 40 and not busy and bool(sensed_runs)

        wait_for(settled, 600, "the sensor's runs done")
        failed = {r: s for r, s in platform.runs().items() if s != "SUCCESS"}
        assert failed == {}, f"round {round_}: runs not successful: {failed}"
        assert digests(platform.warehouse) == serial
