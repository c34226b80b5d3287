"""Quality with real Soda scans on the real PostgreSQL: checks, history, scores, anomalies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from sdp.contracts import load_contract
from sdp.db import connect
from sdp.quality.history import refresh_anomalies
from sdp.quality.soda import SodaCheckError, load_checks, record_outcomes, scan_dataset
from sdp.scoring import score

AS_OF = date(2024, 3, 15)
SEEDED = """
create schema if not exists staging;
create table staging.dq_lines (
    line_id text, customer_id text, email text, msisdn text, status text,
    start_date date, end_date date, billed numeric, expected numeric, updated_at timestamptz,
    plan_code integer
);
create table staging.dq_customers (customer_id text);
insert into staging.dq_customers values ('C1'), ('C2');
insert into staging.dq_lines values
    ('L1', 'C1', 'ann@example.com', '+447700900001', 'active', '2024-01-01', null, 10, 10,
     '2024-03-01 10:00+00', 1),
    ('L1', 'C2', 'not-an-email', '07700 900002', 'sleeping', '2024-02-01', '2024-01-01', 5, 10,
     '2024-03-01 11:00+00', 2),
    ('L3', 'C9', null, null, 'active', '2024-01-01', null, 5, 10, '2024-03-01 12:00+00', 3);
"""
# one check of every kind the platform uses, each seeded to break
SEEDED_CHECKS = """
checks for dq_lines:
  - row_count:
      name: lines present
      warn: when < 10
  - missing_count(email) = 0:
      name: every line has an email
  - invalid_count(email) = 0:
      name: emails well formed
      valid regex: '^[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}$'
  - invalid_count(msisdn) = 0:
      name: msisdns are E.164
      valid regex: '^\\+[1-9][0-9]{7,14}$'
  - invalid_count(status) = 0:
      name: status is known
      valid values: [active, suspended, terminated]
  - failed rows:
      name: lines end after they start
      fail condition: end_date < start_date
  - duplicate_count(line_id) = 0:
      name: one row per line
      attributes:
        blocking: true
  - values in (customer_id) must exist in dq_customers (customer_id):
      name: lines belong to known customers
  - freshness(updated_at):
      name: lines updated within a day of the partition
      warn: when > 1d
      fail: when > 3d
  - schema:
      name: lines keep their columns
      fail:
        when required column missing: [line_id, tariff_id]
        when wrong column type:
          plan_code: text
  - leakage_pct:
      name: revenue leaking (%)
      leakage_pct expression: 100.0 * sum(expected - billed) / sum(expected)
      warn: when > 1
      fail: when > 5
"""


@pytest.fixture
def seeded(conn, db_url, tmp_path) -> tuple[str, Path]:
    conn.execute(SEEDED)
    (tmp_path / "staging.yml").write_text(SEEDED_CHECKS)
    return db_url, tmp_path


def test_a_dataset_seeded_to_break_fails_every_kind_of_check(seeded):
    url, checks_dir = seeded
    checks = load_checks(checks_dir)["staging.dq_lines"]
    outcomes = {o.check.slug: o for o in scan_dataset(url, "staging.dq_lines", checks, AS_OF)}
    assert outcomes["lines_present"].outcome == "warn"  # a warn-only threshold
    assert outcomes["lines_present"].check.severity == "warn"
    for slug in (
        "every_line_has_an_email",
        "emails_well_formed",
        "msisdns_are_e_164",
        "status_is_known",
        "lines_end_after_they_start",
        "one_row_per_line",
        "lines_belong_to_known_customers",
        "lines_updated_within_a_day_of_the_partition",
        "lines_keep_their_columns",
        "revenue_leaking",
    ):
        assert outcomes[slug].outcome == "fail", (slug, outcomes[slug])
    assert outcomes["emails_well_formed"].value == 1
    assert outcomes["msisdns_are_e_164"].value == 1
    assert outcomes["lines_updated_within_a_day_of_the_partition"].value == pytest.approx(348, 0.01)
    assert outcomes["revenue_leaking"].value == pytest.approx(100 * 10 / 30)
    assert outcomes["one_row_per_line"].check.blocking


def test_a_check_soda_cannot_evaluate_is_an_error_with_sodas_reason(seeded, conn):
    url, checks_dir = seeded
    (checks_dir / "staging.yml").write_text(
        "checks for dq_lines:\n  - missing_count(no_such_column) = 0:\n      name: ghost column\n"
    )
    (outcome,) = scan_dataset(url, "staging.dq_lines", load_checks(checks_dir)["staging.dq_lines"])
    assert outcome.outcome == "error"
    assert "no_such_column" in outcome.detail
    record_outcomes(conn, [outcome], AS_OF)
    recorded = conn.execute(
        "select dataset, check_name, outcome, partition_date from quality.check_results"
    ).fetchall()
    assert recorded == [("staging.dq_lines", "ghost_column", "error", AS_OF)]
    event = conn.execute("select event_type, dataset from quality.events").fetchall()
    assert event == [("check_error", "staging.dq_lines")]


def test_a_check_without_a_name_is_refused_naming_the_file(tmp_path):
    (tmp_path / "marts.yml").write_text("checks for cdrs:\n  - row_count > 0\n")
    with pytest.raises(SodaCheckError, match=r"marts.yml: marts.cdrs: check 'row_count > 0'"):
        load_checks(tmp_path)


def test_every_landed_entity_has_its_contract_schema_checked():
    checks = load_checks()
    for entity in load_contract().entities:
        (schema,) = [c for c in checks[f"raw.{entity.qualified}"] if c.definition == "schema"]
        required = schema.config["fail"]["when required column missing"]
        assert set(entity.column_names) <= set(required), entity.qualified
        assert schema.blocking


def test_a_quiet_day_of_a_delta_extract_passes_and_a_missing_batch_warns_then_fails(conn, db_url):
    """The shipped raw check of a slowly changing CRM entity judges the day's batch, not the
    newest updated_at: an empty file on a quiet day passes, a day without a file warns, three
    fail."""
    conn.execute(
        "insert into raw._loads (batch_id, source, entity, partition_date, file, format, sha256,"
        " schema_version, landed_at, status, rows_in, rows_loaded, rows_rejected, bytes, seconds,"
        " method) select 'b' || d, 'crm', 'subscriptions', d, 'f.csv', 'csv', 'x', 1, d + 1,"
        " 'loaded', rows, rows, 0, 10, 0.1, 'copy' from (values (date '2024-03-13', 5),"
        " (date '2024-03-14', 2), (date '2024-03-15', 0)) as v (d, rows)"
    )
    conn.commit()
    (check,) = [c for c in load_checks()["raw.crm_subscriptions"] if "batch" in c.name]
    outcomes = {
        day: scan_dataset(db_url, "raw.crm_subscriptions", [check], date(2024, 3, day))[0]
        for day in (15, 16, 18)
    }
    assert [(o.outcome, o.value) for o in outcomes.values()] == [
        ("pass", 0),
        ("warn", 1),
        ("fail", 3),
    ]


def test_every_dataset_scan_lands_in_the_history_with_a_score(default_build):
    url, _ = default_build
    with psycopg.connect(url) as conn:
        scanned = {r[0] for r in conn.execute("select distinct dataset from quality.check_results")}
        overall = conn.execute(
            "select score from quality.scores where dataset = '(overall)'"
        ).fetchall()
        errors = conn.execute(
            "select dataset, check_name from quality.check_results where outcome = 'error'"
        ).fetchall()
    assert scanned == set(load_checks())
    assert errors == []
    assert overall and all(0 < s < 100 for (s,) in overall)  # default carries broken data


def test_a_clean_scenario_scores_full_marks(clean_build):
    url, _ = clean_build
    with psycopg.connect(url) as conn:
        failing = conn.execute(
            "select dataset, check_name, outcome, measured_value from quality.check_results"
            " where outcome <> 'pass'"
        ).fetchall()
        overall = conn.execute("select score from quality.scores where dataset = '(overall)'")
        assert failing == []
        assert [float(s) for (s,) in overall] == [100.0]


def test_every_injected_data_quality_incident_is_flagged(default_build):
    url, truth = default_build
    with connect(url) as conn:
        result = score(conn, truth)["anomalies"]
    assert result["incidents"] == 4 and result["flagged"] == 4, result
    assert result["false_alarm_rate"] <= 0.05


def test_a_clean_scenario_raises_few_false_alarms_and_reruns_add_no_events(clean_build):
    url, truth = clean_build
    with connect(url) as conn:
        result = score(conn, truth)["anomalies"]
        events = conn.execute("select count(*) from quality.events").fetchone()[0]
        refresh_anomalies(conn)
        assert conn.execute("select count(*) from quality.events").fetchone()[0] == events
    assert result["incidents"] == 0
    assert result["false_alarm_rate"] <= 0.05, result
