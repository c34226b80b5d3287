"""A second operator, built and scored end to end: the French one (market fr, its own profile).

The platform is told nothing about it but its operator profile: numbering formats (mediation
writes 33612345678, billing 0612345678), ids, element naming, time zone and offsets, plan codes,
regions, column orders and its billing convention all come from the feeds. Every `sdp score`
figure has to hold as it does for the default operator.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from orchestration.inprocess import build_landed_days
from sdp.generator import generate
from sdp.operator import FILE_VARIABLE
from sdp.scoring import score
from sdp.scoring.controls import RA_KINDS

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "fr-default.yaml"
PROFILE = ROOT / "scenarios" / "operators" / "fr-mobile.yaml"
MAX_IMPACT_ERROR = 0.01
F1_GOAL = 0.98


@pytest.fixture(scope="module")
def french_build(scratch_db, tmp_path_factory) -> Iterator[tuple[str, dict]]:
    """fr-default built in process with the French profile in force; the environment is put
    back afterwards (Soda and dbt runs export PGTZ), so the other modules keep the shipped one."""
    saved = dict(os.environ)
    os.environ[FILE_VARIABLE] = str(PROFILE)
    try:
        landing = tmp_path_factory.mktemp("french") / "landing"
        result = generate(SCENARIO, landing)
        truth = json.loads(result.ground_truth.read_text())
        days = sorted(p.name[3:] for p in landing.glob("cdr/records/dt=*"))
        with scratch_db() as url:
            outcome = build_landed_days(url, landing, days)
            assert outcome.success, [e.message for e in outcome.all_events if e.is_failure]
            with psycopg.connect(url) as conn:
                yield url, score(conn, truth)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_the_french_operators_revenue_incidents_are_each_detected_within_one_percent(
    french_build,
):
    _, result = french_build
    controls = result["controls"]
    assert set(controls) == set(RA_KINDS)
    for kind, row in controls.items():
        assert row["detected"] == row["injected"], (kind, row)
        assert row["impact_error"] <= MAX_IMPACT_ERROR, (kind, row)
    assert result["unexplained_exceptions"] == {}


def test_the_french_operators_customers_match_and_link(french_build):
    _, result = french_build
    for model in ("match", "link"):
        assert result["matching"][model]["f1"] >= F1_GOAL, result["matching"]


def test_the_french_operators_quality_incidents_are_flagged_without_false_alarms(french_build):
    _, result = french_build
    anomalies = result["anomalies"]
    assert anomalies["missed"] == [], anomalies
    assert anomalies["false_alarm_rate"] <= 0.01, anomalies


def test_the_french_operators_root_causes_are_each_top_ranked(french_build):
    _, result = french_build
    assert result["rca"]["missed"] == [], result["rca"]


def test_the_french_lines_are_read_as_french_numbers_in_every_feed(french_build):
    url, _ = french_build
    with psycopg.connect(url) as conn:
        issues = conn.execute(
            "select count(*) filter (where msisdn is null), count(*) filter (where msisdn not"
            " like '+33%%'), count(*) from staging.stg_cdr__records"
        ).fetchone()
        billed = conn.execute(
            "select count(*) filter (where msisdn not like '+33%%'), count(*)"
            " from staging.stg_billing__usage"
        ).fetchone()
    assert issues[0] == issues[1] == 0 and issues[2] > 0
    assert billed[0] == 0 and billed[1] > 0
