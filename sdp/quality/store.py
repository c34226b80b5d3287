"""Schema `quality`: what every scan found, the metric history, the anomalies, the events.

`check_results` only grows (one row per check per scan: the history the scores are computed
from); `metric_history` keeps one value per metric, dimension and day, the latest computation
winning; `anomalies` is the current judgement over that history, replaced whole; `events` is
the outbox of quality events, recorded whether or not Kafka is configured.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields
from datetime import date

from psycopg import Connection

from sdp.db import replace_rows
from sdp.quality.anomalies import Anomaly
from sdp.quality.metrics import MetricPoint

SCHEMA = "quality"


def save_metrics(conn: Connection, points: Iterable[MetricPoint]) -> int:
    rows = [(p.metric, p.dimension, p.day, p.value, p.support) for p in points]
    with conn.transaction():
        conn.cursor().executemany(
            f"insert into {SCHEMA}.metric_history (metric, dimension, day, value, support)"
            " values (%s, %s, %s, %s, %s) on conflict (metric, dimension, day) do update"
            " set value = excluded.value, support = excluded.support, computed_at = now()",
            rows,
        )
    return len(rows)


def load_metrics(conn: Connection) -> list[MetricPoint]:
    rows = conn.execute(
        f"select metric, dimension, day, value, support from {SCHEMA}.metric_history"
    )
    return [MetricPoint(*row) for row in rows]


def replace_anomalies(conn: Connection, anomalies: list[Anomaly]) -> None:
    columns = [f.name for f in fields(Anomaly)]
    rows = ([getattr(a, c) for c in columns] for a in anomalies)
    replace_rows(conn, f"{SCHEMA}.anomalies", columns, rows)


def record_event(
    conn: Connection, event_type: str, dataset: str | None, day: date | None, payload: dict
) -> int:
    row = conn.execute(
        f"insert into {SCHEMA}.events (event_type, dataset, day, payload)"
        " values (%s, %s, %s, %s) returning event_id",
        (event_type, dataset, day, json.dumps(payload, default=str)),
    ).fetchone()
    return int(row[0])
