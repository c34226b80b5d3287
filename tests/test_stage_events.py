"""Every stage publishes its events with the envelope, through the warehouse outbox."""

from __future__ import annotations

import pytest
from dagster import DagsterInstance, asset, build_run_status_sensor_context, materialize

from orchestration.resources import EventBusResource, WarehouseResource
from orchestration.run_events import run_success_events
from sdp.db import connect
from sdp.events import ENVELOPE_FIELDS, read_topic
from sdp.outbox import flush, pending, record


def outbox(url: str) -> dict[str, list[dict]]:
    with connect(url) as conn:
        rows = conn.execute(
            "select topic, event, published_at is not null from ops.event_outbox order by seq"
        ).fetchall()
    assert all(published for _, _, published in rows), "an event was left unsent"
    by_topic: dict[str, list[dict]] = {}
    for topic, event, _ in rows:
        by_topic.setdefault(topic, []).append(event)
    return by_topic


def test_the_build_publishes_loads_dbt_runs_and_zingg_runs(default_build):
    url, _ = default_build
    events = outbox(url)
    loads = events["audit-logs"]
    assert {e["event_type"] for e in loads} <= {"batch.loaded", "batch.rejected"}
    with connect(url) as conn:
        batches = conn.execute("select count(*) from raw._loads").fetchone()[0]
    assert len(loads) == batches  # one audit record per landed batch
    dbt = events["dbt-events"]
    assert {e["payload"]["step"] for e in dbt} == {"dbt_models", "dbt_partitioned_models"}
    assert all(e["payload"]["counts"]["model"].get("success") for e in dbt)
    zingg = {e["payload"]["model"]: e for e in events["reconciliation-events"]}
    assert set(zingg) == {"match", "link"}
    assert zingg["match"]["payload"]["duplicate_clusters"] > 0
    assert zingg["link"]["payload"]["links"] > 0
    for topic in ("audit-logs", "dbt-events", "reconciliation-events"):
        on_topic = {e["event_id"]: e for e in read_topic(EventBusResource().servers(), topic)}
        for event in events[topic]:
            assert set(on_topic[event["event_id"]]) == set(ENVELOPE_FIELDS)


@asset
def probe_rows():
    from dagster import MaterializeResult

    return MaterializeResult(metadata={"rows_loaded": 42, "note": "text is not a metric"})


def test_a_successful_run_is_audited_with_its_asset_metrics(db_url):
    instance = DagsterInstance.ephemeral()
    result = materialize([probe_rows], instance=instance)
    context = build_run_status_sensor_context(
        sensor_name="run_success_events",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_success_event(),
        resources={"events": EventBusResource(), "warehouse": WarehouseResource(url=db_url)},
    )
    run_success_events(context)
    run_success_events(context)  # a re-evaluated tick records nothing new
    events = outbox(db_url)
    (audit,) = events["audit-logs"]
    assert audit["event_id"] == f"run-succeeded-{result.run_id}"
    assert audit["payload"]["assets"] == ["probe_rows"] and audit["payload"]["duration_s"] >= 0
    (metric,) = events["metrics"]
    assert metric["payload"]["values"] == {"rows_loaded": 42}
    assert metric["payload"]["step_seconds"] >= 0


def test_events_wait_in_the_outbox_while_kafka_is_down(conn):
    from sdp.events import EventBusError, envelope

    record(conn, "metrics", [envelope("probe", "test", {"n": 1}, event_id="outbox-probe-1")])
    with pytest.raises(EventBusError, match=r"127\.0\.0\.1:1"):
        flush(conn, "127.0.0.1:1")
    assert pending(conn) == 1
    assert flush(conn, EventBusResource().servers()).sent == 1
    assert record(conn, "metrics", [envelope("probe", "test", {}, event_id="outbox-probe-1")]) == 0
    assert pending(conn) == 0
