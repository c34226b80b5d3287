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
DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.check_results (
    result_id bigint generated always as identity primary key,
    scan_id text not null,
    dataset text not null,
    check_name text not null,
    definition text not null,
    partition_date date,
    outcome text not null check (outcome in ('pass', 'warn', 'fail', 'error')),
    measured_value double precision,
    threshold text,
    severity text not null check (severity in ('warn', 'error')),
    scanned_at timestamptz not null default now()
);
create index if not exists check_results_dataset on {SCHEMA}.check_results (dataset, scanned_at);
comment on table {SCHEMA}.check_results is 'every Soda check of every scan (append only)';
create table if not exists {SCHEMA}.metric_history (
    metric text not null,
    dimension text not null,
    day date not null,
    value double precision not null,
    support bigint,
    computed_at timestamptz not null default now(),
    primary key (metric, dimension, day)
);
create table if not exists {SCHEMA}.anomalies (
    metric text not null,
    dimension text not null,
    day date not null,
    observed double precision not null,
    expected double precision not null,
    expected_low double precision not null,
    expected_high double precision not null,
    score double precision not null,
    method text not null,
    detected_at timestamptz not null default now(),
    primary key (metric, dimension, day, method)
);
create table if not exists {SCHEMA}.scores (
    dataset text not null,
    day date not null,
    score numeric(5, 1) not null,
    checks int not null,
    passed int not null,
    warned int not null,
    failed int not null,
    computed_at timestamptz not null default now(),
    primary key (dataset, day)
);
create table if not exists {SCHEMA}.events (
    event_id bigint generated always as identity primary key,
    event_type text not null,
    dataset text,
    day date,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    published_at timestamptz
);
"""


def ensure_quality_schema(conn: Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtextextended('sdp.quality.ddl', 0))")
        conn.execute(DDL)


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
