"""Refresh the metric history from the warehouse and judge it again."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from psycopg import Connection

from sdp.contracts import load_contract
from sdp.quality.anomalies import Anomaly, detect
from sdp.quality.metrics import collect_metrics
from sdp.quality.store import (
    load_metrics,
    record_event,
    replace_anomalies,
    save_metrics,
)


@dataclass(frozen=True)
class AnomalyRun:
    metrics_refreshed: int
    metric_days: int
    anomalies: list[Anomaly]


def refresh_anomalies(conn: Connection) -> AnomalyRun:
    """Recompute today's view of every metric, keep the history, flag what stands out, and
    record a quality event for each anomaly not flagged before (re-runs add none)."""
    refreshed = save_metrics(conn, collect_metrics(conn, load_contract()))
    history = load_metrics(conn)
    anomalies = detect(history)
    known = set(conn.execute("select metric, dimension, day, method from quality.anomalies"))
    replace_anomalies(conn, anomalies)
    with conn.transaction():
        for a in anomalies:
            if (a.metric, a.dimension, a.day, a.method) not in known:
                record_event(conn, "anomaly", a.dimension, a.day, asdict(a))
    return AnomalyRun(refreshed, len(history), anomalies)
