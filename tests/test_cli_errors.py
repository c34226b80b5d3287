"""Errors a person can act on: each names the thing and the reason, exits non-zero, and never
shows a Python traceback on the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sdp.generator import generate

ROOT = Path(__file__).resolve().parent.parent
SDP = str(Path(sys.executable).with_name("sdp"))


def sdp(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SDP, *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_refused(run: subprocess.CompletedProcess, *phrases: str, code: int = 1) -> None:
    out = run.stdout + run.stderr
    assert run.returncode == code, out
    assert "Traceback" not in out, out
    for phrase in phrases:
        assert phrase in out, out


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("cli") / "landing"
    generate(ROOT / "scenarios" / "default.yaml", landing, customers=50, days=1)
    return landing


def test_an_unknown_asset_names_the_closest_keys(small_landing):
    run = sdp(
        "materialize",
        "--select",
        "raw/crm_customer",
        "--partition",
        "2026-10-27",
        SDP_LANDING=str(small_landing),
    )
    assert_refused(run, "no asset is called 'raw/crm_customer'", "raw/crm_customers")


def test_a_partition_outside_the_partitions_says_the_range():
    run = sdp("materialize", "--partition", "1999-01-01")
    assert_refused(run, "1999-01-01 is outside the daily partitions", "2025-01-01 to ", code=2)
    assert_refused(sdp("materialize", "--partition", "27/10/2026"), "give YYYY-MM-DD", code=2)


def test_a_report_date_that_is_not_a_date_says_the_format():
    assert_refused(sdp("rca", "report", "--date", "notadate"), "give YYYY-MM-DD", code=2)


def test_a_report_date_without_data_says_so(server_url, db_url):
    # the scratch warehouse is migrated but holds no traffic
    run = sdp("rca", "report", "--date", "2026-10-27", SDP_WAREHOUSE_URL=db_url)
    assert_refused(run, "the warehouse holds no traffic yet")


def test_a_report_date_outside_the_data_names_the_days_held(default_build):
    url, _ = default_build
    run = sdp("rca", "report", "--date", "2020-01-01", SDP_WAREHOUSE_URL=url)
    assert_refused(run, "no data for 2020-01-01: the warehouse holds 2026-10-27 to ")


def test_an_unreachable_warehouse_names_the_variable_and_address_at_once(small_landing):
    url = "postgresql://someone:s3cret-pw@127.0.0.1:1/warehouse"
    for args in (("summary",), ("materialize",), ("migrate",)):
        started = time.monotonic()
        run = sdp(*args, SDP_WAREHOUSE_URL=url, SDP_LANDING=str(small_landing))
        assert time.monotonic() - started < 10, f"sdp {args[0]} retried before giving up"
        assert_refused(run, "127.0.0.1:1", "SDP_WAREHOUSE_URL" if args[0] != "migrate" else "")
        assert "s3cret-pw" not in run.stdout + run.stderr


def test_an_unknown_topic_is_named_with_the_topics_there():
    run = sdp("kafka", "consume", "nosuch-topic")
    assert_refused(run, "topic 'nosuch-topic' does not exist", "landing-events", "audit-logs")
