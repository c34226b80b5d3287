"""Revenue-assurance controls on the whole lineage built in process (fixtures in conftest)."""

from __future__ import annotations

import json

import psycopg
import pytest

from sdp.dbt_cli import run_dbt
from sdp.scoring import score

MAX_IMPACT_ERROR = 0.01


def test_every_injected_revenue_incident_is_detected_within_one_percent(default_build):
    url, truth = default_build
    with psycopg.connect(url) as conn:
        result = score(conn, truth)
    controls = result["controls"]
    assert set(controls) == {
        "wrong_tariff",
        "mediation_replay",
        "unbilled_usage",
        "late_billing",
        "unbilled_provisioning",
        "subscription_mismatch",
        "gl_mismatch",
    }
    for kind, row in controls.items():
        assert row["detected"] == row["injected"], kind
        assert row["impact_error"] <= MAX_IMPACT_ERROR, (kind, row)
    assert result["unexplained_exceptions"] == {}


def test_a_clean_scenario_raises_no_exception(clean_build):
    url, truth = clean_build
    with psycopg.connect(url) as conn:
        exceptions = conn.execute("select count(*) from controls.ctl_exceptions").fetchone()[0]
        result = score(conn, truth)
    assert exceptions == 0
    assert result["controls"] == {} and result["unexplained_exceptions"] == {}


def test_the_cdr_fact_and_kpis_cover_every_day_and_core_element(default_build):
    url, truth = default_build
    with psycopg.connect(url) as conn:
        days = conn.execute("select count(distinct event_date) from marts.cdrs").fetchone()[0]
        kpi = conn.execute(
            "select count(*), min(answer_seizure_ratio), max(drop_rate)"
            " from kpis.kpi_network_element_daily where voice_attempts > 0"
        ).fetchone()
        daily = conn.execute(
            "select min(active_subscribers), min(arpu) from kpis.kpi_daily"
        ).fetchone()
        replays = conn.execute("select sum(replayed_rows) from marts.cdrs").fetchone()[0]
    assert days == truth["sizes"]["days"]
    assert kpi[0] > 0 and 0 < kpi[1] <= 1 and 0 <= kpi[2] < 1
    assert daily[0] > 0 and daily[1] > 0
    replay = next(i for i in truth["incidents"] if i["kind"] == "mediation_replay")
    assert replays == replay["rows_affected"]


def test_leakage_summary_splits_leaks_from_overbilling(default_build):
    url, _ = default_build
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select control, sum(leakage_amount), sum(overbilled_amount), sum(late_amount)"
            " from controls.ctl_leakage_daily group by control order by control"
        ).fetchall()
        pct = conn.execute(
            "select max(leakage_pct) from controls.ctl_leakage_daily where leakage_pct is not null"
        ).fetchone()[0]
    by_control = {r[0]: r[1:] for r in rows}
    assert by_control["rating_accuracy"][1] > 0  # the wrong tariff over-bills
    assert by_control["usage_completeness"][0] > 0 and by_control["usage_completeness"][2] > 0
    assert pct is not None and pct > 0


UNIT_TESTS = (
    "billed_lines_read_through_the_home_country_numbering",
    "rating_rule_prices_each_service",
    "half_up_rounding_at_the_fourth_place",
    "tariff_valid_at_event_date_prices_billed_usage",
    "the_operators_day_picks_the_tariff",
    "invoices_of_usage_rated_in_the_period_tie_out",
    "the_same_books_read_by_event_time_do_not_tie_out",
    "review_queue_lists_undecided_pairs_near_the_floor_on_both_sides",
)


@pytest.mark.parametrize(
    "profile",
    [
        {},
        # another operator's profile: each unit test states its own, so none depends on this one
        {"SDP_OPERATOR_COUNTRY": "US", "SDP_OPERATOR_TIMEZONE": "America/New_York"},
    ],
    ids=["shipped-profile", "another-profile"],
)
def test_dbt_unit_tests_pass_whatever_the_operator_profile(default_build, monkeypatch, profile):
    url, _ = default_build
    for name, value in profile.items():
        monkeypatch.setenv(name, value)
    run = run_dbt(url, "test", "--select", "test_type:unit")
    assert run.returncode == 0, run.stdout[-3000:]
    for name in UNIT_TESTS:
        assert name in run.stdout
    assert f"PASS={len(UNIT_TESTS)} " in run.stdout


# An operator's own labels, written by hand in the documented ground-truth format (README,
# "Scoring on your own labelled data"): only the fields the format names.
HAND_LABELS = """
{
  "scenario": "labelled by the revenue-assurance team",
  "incidents": [
    {
      "id": "october-data-gl-short", "kind": "gl_mismatch",
      "source": "erp", "entity": "gl_revenue",
      "window": {"start": "2026-10-01T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00"},
      "dimensions": {"network_element_id": null, "plan_code": null,
                     "service_type": "data", "region": null},
      "revenue_impact": "125.50",
      "detail": {"period": "2026-10", "revenue_stream": "data"}
    }
  ],
  "duplicates": {"crm_crm": [], "crm_billing": []}
}
"""


def test_an_operators_hand_written_labels_are_scored_on_the_documented_outputs(default_build):
    url, _ = default_build
    with psycopg.connect(url) as conn:
        result = score(conn, json.loads(HAND_LABELS))
    assert result["scenario"] == "labelled by the revenue-assurance team"
    gl = result["controls"]["gl_mismatch"]
    assert (gl["injected"], gl["detected"], gl["impact_error"]) == (1, 1, 0.0)
    # what the labels do not name is reported, not hidden: the unlabelled missing SMS posting
    assert result["unexplained_exceptions"]["invoice_gl_tieout/not_posted"] == 1
    assert (result["rca"]["incidents"], result["rca"]["missed"]) == (1, [])
