"""Every finished run becomes events: `audit-logs` for all, `metrics` per materialized asset,
and `alerts` for failures, where on-call tooling listens.

Event ids name the run (and asset and partition), so a re-evaluated tick records nothing new.
They go through the warehouse outbox: a broker that is down delays them, never drops them.
"""

from dagster import (
    DagsterEventType,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    run_failure_sensor,
    run_status_sensor,
)
from dagster._core.events.log import EventLogEntry

from orchestration.resources import EventBusResource, WarehouseResource
from sdp.events import envelope

ALERTS_TOPIC = "alerts"
AUDIT_TOPIC = "audit-logs"
METRICS_TOPIC = "metrics"


def _run_payload(context: RunStatusSensorContext, run: DagsterRun) -> dict:
    record = context.instance.get_run_record_by_id(run.run_id)
    started = record.start_time if record else None
    ended = record.end_time if record else None
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "status": run.status.value,
        "partition": run.tags.get("dagster/partition"),
        "sensor": run.tags.get("dagster/sensor_name"),
        "schedule": run.tags.get("dagster/schedule_name"),
        "batch_id": run.tags.get("sdp/batch_id"),
        "duration_s": round(ended - started, 3) if started and ended else None,
    }


def _numbers(metadata: dict) -> dict[str, float]:
    """The numeric metadata of a materialization: row counts, rejects, seconds."""
    out: dict[str, float] = {}
    for key, value in metadata.items():
        raw = getattr(value, "value", None)
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            out[key] = raw
    return out


def _asset_metrics(context: RunStatusSensorContext, run: DagsterRun) -> list[dict]:
    entries: list[EventLogEntry] = [
        r.event_log_entry
        for r in context.instance.get_records_for_run(
            run.run_id,
            of_type={DagsterEventType.STEP_SUCCESS, DagsterEventType.ASSET_MATERIALIZATION},
        ).records
    ]
    step_seconds = {
        e.step_key: e.dagster_event.event_specific_data.duration_ms / 1000
        for e in entries
        if e.dagster_event and e.dagster_event.event_type == DagsterEventType.STEP_SUCCESS
    }
    metrics = []
    for e in entries:
        event = e.dagster_event
        if not event or event.event_type != DagsterEventType.ASSET_MATERIALIZATION:
            continue
        materialization = event.event_specific_data.materialization
        asset = materialization.asset_key.to_user_string()
        partition = materialization.partition
        metrics.append(
            envelope(
                "asset.materialized",
                "dagster",
                {
                    "run_id": run.run_id,
                    "job": run.job_name,
                    "asset": asset,
                    "partition": partition,
                    "step": e.step_key,
                    "step_seconds": step_seconds.get(e.step_key),
                    "values": _numbers(materialization.metadata),
                },
                event_id=f"metric-{run.run_id}-{asset}-{partition or 'all'}",
            )
        )
    return metrics


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    name="run_success_events",
    description=(
        "For every successful run: a `run.succeeded` record on `audit-logs` and, per "
        "materialized asset, its step duration and numeric metadata (row counts, rejects) "
        "on `metrics`."
    ),
    default_status=DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
)
def run_success_events(
    context: RunStatusSensorContext, warehouse: WarehouseResource, events: EventBusResource
) -> None:
    run = context.dagster_run
    payload = _run_payload(context, run)
    metrics = _asset_metrics(context, run)
    payload["assets"] = sorted({m["payload"]["asset"] for m in metrics})
    audit = envelope("run.succeeded", "dagster", payload, event_id=f"run-succeeded-{run.run_id}")
    with warehouse.connect() as conn:
        events.emit(conn, AUDIT_TOPIC, [audit], context.log.info)
        events.emit(conn, METRICS_TOPIC, metrics, context.log.info)


@run_failure_sensor(
    name="run_failure_alerts",
    description=(
        "Publishes every failed run (job, run id, partition, step, error) to `alerts` and "
        "records it on `audit-logs`."
    ),
    default_status=DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
)
def run_failure_alerts(
    context: RunFailureSensorContext, warehouse: WarehouseResource, events: EventBusResource
) -> None:
    run = context.dagster_run
    failure = context.failure_event
    payload = {**_run_payload(context, run), "step": failure.step_key, "error": failure.message}
    alert = envelope("run_failed", "dagster", payload, event_id=f"run-failed-{run.run_id}")
    audit = envelope("run.failed", "dagster", payload, event_id=f"audit-run-failed-{run.run_id}")
    with warehouse.connect() as conn:
        events.emit(conn, ALERTS_TOPIC, [alert], context.log.info)
        events.emit(conn, AUDIT_TOPIC, [audit], context.log.info)
    context.log.info(f"alerted on failed run {run.run_id} of {run.job_name}")
