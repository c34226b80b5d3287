"""Anomaly detection against the ground truth's data-quality incidents.

An incident is flagged when some anomaly falls on a day of its window and names its feed: the
element for a per-element feed (any metric of `cdr.records/<element>` or `network/<element>`),
else the source entity. A flagged metric-day is a false alarm when no injected incident of any
kind (revenue incidents move volumes and leakage too) explains it; the rate is over every
metric-day in the history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from psycopg import Connection

DATA_QUALITY_KINDS = ("cdr_drop", "late_batch", "schema_drift", "bad_contact_data")


def _days(incident: dict) -> set[date]:
    window = incident.get("window") or {}
    if not window.get("start"):
        return set()
    start = datetime.fromisoformat(window["start"]).date()
    end = datetime.fromisoformat(window.get("end") or window["start"]) - timedelta(microseconds=1)
    return {start + timedelta(days=n) for n in range((end.date() - start).days + 1)}


def _names(incident: dict, dimension: str) -> bool:
    element = (incident.get("dimensions") or {}).get("network_element_id")
    if element:
        return dimension.endswith(f"/{element}")
    feed = f"{incident.get('source')}.{incident.get('entity')}"
    return dimension == feed or dimension.startswith(f"{feed}/")


def _explains(incident: dict, dimension: str, day: date) -> bool:
    if day not in _days(incident):
        return False
    if dimension == "all":  # leakage % over the whole operator: any money incident that day
        return float(incident.get("revenue_impact") or 0) != 0
    return _names(incident, dimension)


def score_anomalies(conn: Connection, truth: dict) -> dict:
    if not conn.execute("select exists (select from quality.metric_history)").fetchone()[0]:
        return {}  # the anomaly detection has not run: it records a history first
    flagged = conn.execute(
        "select distinct metric, dimension, day from quality.anomalies"
    ).fetchall()
    metric_days = conn.execute("select count(*) from quality.metric_history").fetchone()[0]
    incidents = truth.get("incidents", [])
    quality = [i for i in incidents if i["kind"] in DATA_QUALITY_KINDS]
    found = [
        i["id"]
        for i in quality
        if any(_explains(i, dimension, day) and dimension != "all" for _, dimension, day in flagged)
    ]
    false_alarms = [
        (metric, dimension, day)
        for metric, dimension, day in flagged
        if not any(_explains(i, dimension, day) for i in incidents)
    ]
    return {
        "incidents": len(quality),
        "flagged": len(found),
        "missed": sorted({i["id"] for i in quality} - set(found)),
        "flagged_metric_days": len(flagged),
        "metric_days": metric_days,
        "false_alarms": len(false_alarms),
        "false_alarm_rate": round(len(false_alarms) / metric_days, 4) if metric_days else 0.0,
    }
