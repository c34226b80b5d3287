"""Findings from plain observations: leaks located, drops explained, late and reshaped feeds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rca.findings import Observations, analyze

DAYS = [date(2026, 10, 27) + timedelta(days=i) for i in range(7)]
ELEMENTS = ["MSC-LON-01", "MSC-NWE-01", "PGW-LON-01", "PGW-NWE-01"]
PLANS = ["SIMO-5GB", "SIMO-30GB", "BIZ-PRO"]
REGION = {"MSC-LON-01": "LON", "MSC-NWE-01": "NWE", "PGW-LON-01": "LON", "PGW-NWE-01": "NWE"}
SERVICE = {"MSC": "voice", "PGW": "data"}


def expected_rows() -> list[dict]:
    return [
        {
            "event_date": day,
            "network_element_id": element,
            "region": REGION[element],
            "plan_code": plan,
            "service_type": SERVICE[element[:3]],
            "expected_revenue": 100.0,
        }
        for day in DAYS
        for element in ELEMENTS
        for plan in PLANS
    ]


def exception(control, reason, day, element, plan, amount) -> dict:
    return {
        "control": control,
        "reason": reason,
        "event_date": day,
        "network_element_id": element,
        "region": REGION[element],
        "plan_code": plan,
        "service_type": SERVICE[element[:3]],
        "amount": amount,
    }


def top(findings, kind):
    return [f.causes[0] for f in findings if f.causes and f.causes[0].kind == kind]


def test_mis_rating_is_located_on_its_plan_from_the_day_it_started():
    rows = [
        exception("rating_accuracy", "wrong_price", day, element, "SIMO-5GB", 8.0)
        for day in DAYS[3:]
        for element in ("PGW-LON-01", "PGW-NWE-01")
    ]
    findings = analyze(Observations(exceptions=rows, expected=expected_rows()))
    (cause,) = top(findings, "wrong_tariff")
    assert (cause.dimension, cause.value) == ("plan_code", "SIMO-5GB")
    assert cause.window_start == datetime(2026, 10, 30, tzinfo=UTC)
    assert cause.recommendation.startswith("re-rate plan SIMO-5GB data usage from 2026-10-30")


def test_replayed_cdrs_are_located_on_the_element_that_replayed_them():
    rows = [
        exception("usage_completeness", "billed_twice", DAYS[1], "PGW-NWE-01", plan, 3.0)
        for plan in PLANS
        for _ in range(5)
    ]
    findings = analyze(Observations(exceptions=rows, expected=expected_rows()))
    (cause,) = top(findings, "mediation_replay")
    assert (cause.dimension, cause.value) == ("network_element_id", "PGW-NWE-01")


def hourly(element: str, gap: tuple[datetime, datetime] | None = None) -> list[dict]:
    rows = []
    for day in DAYS:
        for hour in range(24):
            t = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            cdrs = 0 if gap and gap[0] <= t < gap[1] else 40 + (hour % 5)
            rows.append({"hour": t, "network_element_id": element, "cdrs": cdrs})
    return rows


def test_a_cdr_drop_is_explained_by_the_element_with_the_critical_alarm():
    gap = (datetime(2026, 10, 29, 14, tzinfo=UTC), datetime(2026, 10, 29, 17, tzinfo=UTC))
    elements = [
        {"network_element_id": e, "region": REGION[e], "site_id": f"{REGION[e]}-CORE"}
        for e in ELEMENTS
    ]
    alarms = [
        {
            "alarm_id": "ALM-1",
            "network_element_id": "MSC-NWE-01",
            "severity": "critical",
            "alarm_type": "LINK_DOWN",
            "raised_at": gap[0] - timedelta(minutes=5),
            "cleared_at": gap[1],
        }
    ]
    obs = Observations(
        hourly=hourly("MSC-NWE-01", gap) + hourly("MSC-LON-01"),
        alarms=alarms,
        elements=elements,
    )
    (finding,) = [f for f in analyze(obs) if f.metric == "cdr_volume"]
    cause = finding.causes[0]
    assert (cause.kind, cause.value) == ("cdr_drop", "MSC-NWE-01")
    assert (cause.window_start, cause.window_end) == gap
    assert "critical LINK_DOWN ALM-1" in cause.evidence


def load(batch, day, landed_hours_after_day_end, element=None, **extra) -> dict:
    day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return {
        "batch_id": batch,
        "source": "cdr",
        "entity": "records",
        "partition_date": day,
        "landed_at": day_end + timedelta(hours=landed_hours_after_day_end),
        "rows_in": 100,
        "method": "copy",
        "elements": [element] if element else [],
        **extra,
    }


def test_a_late_batch_and_a_reshaped_feed_are_found_at_their_element():
    loads = [load(f"b-{e}-{d}", d, 1.0, e) for d in DAYS for e in ("MSC-LON-01", "PGW-NWE-01")]
    loads[6] = load("late-one", DAYS[3], 55.0, "MSC-LON-01")
    loads += [
        load(f"drift-{d}", d, 1.0, "PGW-NWE-01", extra_columns=["roaming_flag"]) for d in DAYS[4:]
    ]
    findings = analyze(Observations(loads=loads))
    (late,) = top(findings, "late_batch")
    assert (late.value, late.window_start.date()) == ("MSC-LON-01", DAYS[3])
    assert "late-one" in late.recommendation
    (drift,) = top(findings, "schema_drift")
    assert (drift.value, drift.window_start.date()) == ("PGW-NWE-01", DAYS[4])
    assert "roaming_flag" in drift.evidence


def test_nothing_wrong_gives_no_finding():
    loads = [load(f"b-{d}", d, 1.0, "MSC-LON-01") for d in DAYS]
    obs = Observations(expected=expected_rows(), hourly=hourly("MSC-LON-01"), loads=loads)
    assert analyze(obs) == []


def test_the_default_scenarios_incidents_are_each_some_findings_top_cause(default_build):
    from sdp.db import connect
    from sdp.scoring.rca import score_rca

    url, truth = default_build
    with connect(url) as conn:
        result = score_rca(conn, truth)
        events = conn.execute(
            "select count(*) from ops.event_outbox where topic = 'rca-events'"
        ).fetchone()[0]
    assert result["top1_accuracy"] >= 0.9, result["missed"]
    assert events == result["findings"]  # every finding published


def test_the_daily_report_shows_the_days_findings_with_a_chart(default_build, tmp_path):
    from sdp.analysis.report import write_daily_report
    from sdp.db import connect

    url, _ = default_build
    with connect(url) as conn:
        report = write_daily_report(conn, date(2026, 10, 29), tmp_path / "reports")
    page = report.path.read_text()
    assert report.path.name == "rca-2026-10-29.html" and report.findings >= 1
    assert page.count("<svg") == 2 and "MSC-NWE-01" in page and "cdr_drop" in page
    assert "**cdr_drop** at `network_element_id=MSC-NWE-01`" in report.summary


def test_a_quality_anomaly_is_explained_by_the_most_upstream_finding_at_its_place_and_day():
    loads = [load(f"b-{d}", d, 1.0, "MSC-LON-01") for d in DAYS]
    loads[3] = load("late-one", DAYS[3], 55.0, "MSC-LON-01")
    anomalies = [
        {
            "metric": "lateness_hours",
            "dimension": "cdr.records/MSC-LON-01",
            "day": DAYS[3],
            "observed": 55.0,
            "expected": 1.0,
            "score": 9.0,
            "method": "robust_z",
        },
        {
            "metric": "invalid_email_rate",
            "dimension": "crm.customers",
            "day": DAYS[4],
            "observed": 0.5,
            "expected": 0.0,
            "score": 6.0,
            "method": "robust_z",
        },
    ]
    findings = analyze(Observations(loads=loads, anomalies=anomalies))
    by_metric = {f.metric: f for f in findings}
    late = by_metric["anomaly/lateness_hours"].causes[0]
    assert (late.kind, late.value) == ("late_batch", "MSC-LON-01")
    assert "lateness_hours of cdr.records/MSC-LON-01 was 55" in late.evidence
    alone = by_metric["anomaly/invalid_email_rate"].causes[0]
    assert (alone.kind, alone.value) == ("data_anomaly", "crm.customers")
