"""The nightly schedule and the run-failure alerts (against the real Kafka broker)."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import (
    DagsterInstance,
    build_schedule_context,
    build_sensor_context,
    job,
    op,
)

from orchestration.resources import EventBusResource, WarehouseResource
from orchestration.run_events import ALERTS_TOPIC, run_failure_alerts
from orchestration.schedules import daily_refresh_schedule
from sdp.events import read_topic


def test_the_nightly_schedule_refreshes_the_day_that_just_ended():
    context = build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 3, 3, 0, tzinfo=UTC)
    )
    request = daily_refresh_schedule(context)
    assert request.partition_key == "2026-11-02"
    assert request.run_key == "daily-2026-11-02"


@op
def load_that_breaks():
    raise RuntimeError("billing feed unreadable")


@job
def breaking_job():
    load_that_breaks()


def test_a_failed_run_is_published_to_alerts_once_however_often_it_is_seen(db_url, conn):
    instance = DagsterInstance.ephemeral()
    result = breaking_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    events = EventBusResource()
    resources = {"events": events, "warehouse": WarehouseResource(url=db_url)}
    cursor = None
    for fresh in (False, False, True):  # a second tick, and one from a fresh cursor
        with build_sensor_context(
            instance=instance, resources=resources, cursor=None if fresh else cursor
        ) as context:
            run_failure_alerts(context)
            cursor = context.cursor
    alerts = [
        e
        for e in read_topic(events.servers(), ALERTS_TOPIC)
        if e["event_id"] == f"run-failed-{result.run_id}"
    ]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["event_type"] == "run_failed" and alert["source"] == "dagster"
    assert alert["payload"]["job"] == "breaking_job"
    assert alert["payload"]["step"] == "load_that_breaks"
    assert "billing feed unreadable" in alert["payload"]["error"]
    recorded = conn.execute(
        "select topic, count(*) from ops.event_outbox where event->'payload'->>'run_id' = %s"
        " group by topic order by topic",
        (result.run_id,),
    ).fetchall()
    assert recorded == [("alerts", 1), ("audit-logs", 1)]


def test_every_asset_runs_in_one_run_over_a_range_of_days():
    """`sdp materialize` (make run) passes a partition range: the CLI refuses any asset that
    would need a backfill of one run per day."""
    from dagster import BackfillPolicy

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    refused = [
        key.to_user_string()
        for key in graph.materializable_asset_keys
        if graph.get(key).backfill_policy != BackfillPolicy.single_run()
    ]
    assert refused == []
