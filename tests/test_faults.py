"""Faults against the real services, each ending with nothing lost and nothing doubled after the
documented recovery: rerun the same materialization."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from datetime import date
from pathlib import Path

from dagster import AssetKey, materialize
from instance import cdr_rows, copying, wait_for

from orchestration.assets.raw import raw_assets
from orchestration.assets.reconciliation import customer_matches
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from sdp.db import address, connect
from sdp.landing import land_file
from sdp.runtime.postgres import EmbeddedPostgres
from sdp.settings import load_settings

DAY = "2026-10-27"
ROWS = 400_000


def resources(url: str, landing: Path) -> dict:
    return {
        "warehouse": WarehouseResource(url=url),
        "landing": LandingResource(path=str(landing)),
        "events": EventBusResource(),
    }


CDRS = AssetKey(["raw", "cdr_records"])


def step_error(result) -> str:
    """Every failed step's error and its causes (Dagster wraps the step's own exception)."""
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            messages.append(error.message)
            error = error.cause
    return "\n".join(messages)


def test_postgres_stopped_mid_load_fails_naming_the_warehouse_and_the_rerun_completes(
    db_url, landing
):
    land_file(
        landing, "cdr", "records", date.fromisoformat(DAY), "cdr-big", cdr_rows(DAY, ROWS), ROWS
    )
    server = EmbeddedPostgres(load_settings())

    def stop_mid_copy() -> None:
        wait_for(lambda: copying(db_url), 120, "the COPY under way")
        server.stop()
        time.sleep(1)
        server.start()

    stopper = threading.Thread(target=stop_mid_copy)
    stopper.start()
    result = materialize(
        raw_assets(),
        selection=[CDRS],
        partition_key=DAY,
        resources=resources(db_url, landing),
        raise_on_error=False,
    )
    stopper.join()
    assert not result.success
    assert f"the warehouse at {address(db_url)} is unreachable or went away" in step_error(result)
    rerun = materialize(
        raw_assets(), selection=[CDRS], partition_key=DAY, resources=resources(db_url, landing)
    )
    assert rerun.success
    with connect(db_url) as conn:
        counted = conn.execute(
            "select count(*), count(distinct cdr_id) from raw.cdr_records"
        ).fetchone()
        loads = conn.execute("select batch_id, status, rows_loaded from raw._loads").fetchall()
    assert counted == (ROWS, ROWS)
    assert loads == [("cdr-big", "loaded", ROWS)]


def test_a_file_truncated_after_its_manifest_is_rejected_whole(db_url, landing):
    data = cdr_rows(DAY, 50)
    manifest = land_file(landing, "cdr", "records", date.fromisoformat(DAY), "cdr-cut", data, 50)
    path = landing / f"cdr/records/dt={DAY}" / manifest.file
    path.write_bytes(data[: len(data) // 2])  # a transfer that stopped half way
    result = materialize(
        raw_assets(),
        selection=[CDRS],
        partition_key=DAY,
        resources=resources(db_url, landing),
        raise_on_error=False,
    )
    assert not result.success
    assert "cdr-cut.csv: sha256 is" in step_error(result)
    with connect(db_url) as conn:
        assert conn.execute("select count(*) from raw.cdr_records").fetchone() == (0,)
        assert conn.execute("select status from raw._loads").fetchall() == [("rejected",)]


def zingg_phase_pids(phase: str) -> list[int]:
    """This platform's JVMs of `phase` (their config lives under its home): never another
    platform's Zingg that happens to run on the same machine."""
    config_dir = str(load_settings().home / "zingg").encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = any(a.startswith(config_dir) for a in args)
        if ours and b"zingg.spark.client.SparkClient" in args and phase.encode() in args:
            pids.append(int(proc.name))
    return pids


def test_zingg_killed_mid_phase_fails_with_its_last_lines_and_keeps_the_previous_matches(
    default_build, tmp_path
):
    url, _ = default_build

    def snapshot() -> tuple:
        with connect(url) as conn:
            return conn.execute(
                "select count(*), md5(string_agg(customer_id || z_cluster, ',' order by"
                " customer_id)) from reconciliation.customer_matches"
            ).fetchone()

    before = snapshot()
    assert before[0] > 0

    def kill_mid_phase() -> None:
        pids = wait_for(lambda: zingg_phase_pids("match"), 180, "Zingg's match JVM")
        log = load_settings().home / "zingg" / "logs" / "match-match.log"
        wait_for(lambda: log.exists() and log.stat().st_size > 0, 180, "Zingg's first lines")
        time.sleep(3)  # inside the phase, not at its start
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # spark-submit's shell, gone already
                os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_mid_phase)
    killer.start()
    result = materialize(
        [customer_matches], resources=resources(url, tmp_path), raise_on_error=False
    )
    killer.join()
    assert not result.success
    error = step_error(result)
    assert re.search(r"Zingg match on \S+ was killed by SIGKILL; its last lines:\n.+", error)
    assert snapshot() == before  # readable, and what the previous match left
