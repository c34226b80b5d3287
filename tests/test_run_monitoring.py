"""Through the real daemon: a run whose process is killed is failed by Dagster itself, and every
failed run reaches `alerts` and `audit-logs` exactly once, however it was launched and also
when it failed while the daemon was down.

UI launches and schedules submit runs through the same run queue and launcher as the sensor
here, so the sensor stands for them."""

from __future__ import annotations

import os
import signal

import pytest
from instance import cdr_rows, copying, own_platform, wait_for

from orchestration.resources import EventBusResource
from sdp.db import connect
from sdp.events import read_topic
from sdp.outbox import flush

ROWS = 400_000
DAY = "2026-10-27"
ALARMS = (
    b"alarm_id,network_element_id,severity,alarm_type,raised_at\n"
    b"AL1,MSC-01,critical,LINK_DOWN,2026-10-27T07:55:00Z\n"
)


@pytest.fixture(scope="module")
def platform(server_url, tmp_path_factory):
    with own_platform(server_url, tmp_path_factory.mktemp("monitoring")) as own:
        own.start_daemon()
        yield own


def tampered_alarms(platform, day: str, batch_id: str) -> None:
    """A batch changed after its manifest was written: its run must fail."""
    manifest = platform.land(("oss", "alarms"), day, batch_id, ALARMS, 1)
    data = platform.landing / f"oss/alarms/dt={day}" / manifest.file
    data.write_bytes(ALARMS + b"AL2,MSC-01,minor,LINK_DOWN,2026-10-27T08:00:00Z\n")


def new_failed_runs(platform, before: set[str], count: int, timeout: float) -> list[str]:
    return wait_for(
        lambda: (
            failed
            if len(
                failed := [
                    r for r, s in platform.runs().items() if s == "FAILURE" and r not in before
                ]
            )
            >= count
            else None
        ),
        timeout,
        f"{count} new failed runs",
    )


def test_a_run_killed_mid_copy_is_failed_by_dagster_and_the_rerun_loses_nothing(platform):
    platform.land(("cdr", "records"), DAY, "cdr-big", cdr_rows(DAY, ROWS), ROWS)
    select = ("--select", "raw/cdr_records", "--partition", DAY)
    before = set(platform.runs())
    run = platform.spawn("sdp", "materialize", *select)
    wait_for(lambda: copying(platform.warehouse), 180, "the COPY under way")
    os.killpg(run.pid, signal.SIGKILL)  # the CLI, the executor and the step: nothing cleans up
    run.wait()
    (killed,) = new_failed_runs(platform, before, 1, 120)
    wait_for(lambda: platform.outbox("alerts", killed), 90, "the killed run's alert")
    rerun = platform.run("sdp", "materialize", *select)
    assert rerun.returncode == 0, rerun.stderr
    with connect(platform.warehouse) as conn:
        rows, distinct = conn.execute(
            "select count(*), count(distinct cdr_id) from raw.cdr_records"
        ).fetchone()
        loads = conn.execute("select batch_id, status from raw._loads").fetchall()
    assert (rows, distinct) == (ROWS, ROWS)
    assert loads == [("cdr-big", "loaded")]


def test_every_failed_run_is_alerted_once_however_launched_and_while_the_daemon_was_down(
    platform,
):
    before = set(platform.runs())
    tampered_alarms(platform, "2026-10-28", "alarms-cli")
    select = ("--select", "raw/oss_alarms", "--partition", "2026-10-28")
    assert platform.run("sdp", "materialize", *select).returncode == 1
    dagster = ("dagster", "asset", "materialize", "-m", "orchestration.definitions")
    tampered_alarms(platform, "2026-10-29", "alarms-dagster-cli")
    assert platform.run(*dagster, *select[:2], "--partition", "2026-10-29").returncode != 0
    tampered_alarms(platform, "2026-10-30", "alarms-sensor")
    started = platform.run(
        "dagster", "sensor", "start", "landing_folder_sensor", "-w", "workspace.yaml"
    )
    assert started.returncode == 0, started.stderr
    new_failed_runs(platform, before, 3, 240)
    platform.stop_daemon()
    tampered_alarms(platform, "2026-10-31", "alarms-daemon-down")
    assert (
        platform.run("sdp", "materialize", *select[:2], "--partition", "2026-10-31").returncode == 1
    )
    platform.start_daemon()
    failed = [r for r, s in platform.runs().items() if s == "FAILURE"]
    assert len(set(failed) - before) == 4
    wait_for(
        lambda: (
            all(platform.outbox("alerts", r) for r in failed)
            and all(platform.outbox("audit-logs", r, "run.failed") for r in failed)
        ),
        120,
        "an alert and an audit record for every run",
    )
    for run_id in failed:
        assert platform.outbox("alerts", run_id) == 1
        assert platform.outbox("audit-logs", run_id, "run.failed") == 1
    platform.stop_daemon()  # its sensors hold the outbox rows while they retry the broker
    with connect(platform.warehouse) as conn:
        assert flush(conn, EventBusResource().servers()).pending == 0  # the broker is back
    on_topic = [
        e
        for e in read_topic(EventBusResource().servers(), "alerts")
        if e["payload"].get("run_id") in failed
    ]
    assert sorted(e["payload"]["run_id"] for e in on_topic) == sorted(failed)
