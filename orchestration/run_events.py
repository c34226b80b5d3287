"""Every finished run becomes events: `audit-logs` for all, `metrics` per materialized asset,
and `alerts` for failures, where on-call tooling listens.

Event ids name the run (and asset and partition), so a re-evaluated tick records nothing new.
They go through the warehouse outbox: a broker that is down delays them, never drops them.
"""

from datetime import UTC, datetime, timedelta

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_status_sensor,
    sensor,
)
from dagster._core.events.log import EventLogEntry

from orchestration.resources import EventBusResource, WarehouseResource
from sdp.events import envelope

ALERTS_TOPIC = "alerts"
AUDIT_TOPIC = "audit-logs"
METRICS_TOPIC = "metrics"


def _run_payload(instance: DagsterInstance, run: DagsterRun) -> dict:
    record = instance.get_run_record_by_id(run.run_id)
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
    # runs of `sdp materialize` come from a location named after the module, not `sdp`
    monitor_all_code_locations=True,
)
def run_success_events(
    context: RunStatusSensorContext, warehouse: WarehouseResource, events: EventBusResource
) -> None:
    run = context.dagster_run
    payload = _run_payload(context.instance, run)
    metrics = _asset_metrics(context, run)
    payload["assets"] = sorted({m["payload"]["asset"] for m in metrics})
    audit = envelope("run.succeeded", "dagster", payload, event_id=f"run-succeeded-{run.run_id}")
    with warehouse.connect() as conn:
        events.emit(conn, AUDIT_TOPIC, [audit], context.log.info)
        events.emit(conn, METRICS_TOPIC, metrics, context.log.info)


# failed runs already this old when the sensor first ticks are history, not news
FIRST_LOOKBACK = timedelta(days=7)
# read again behind the cursor: a run whose failure was being written while the last tick read
# may carry an earlier timestamp than the newest one that tick saw (the outbox drops repeats)
CURSOR_OVERLAP = timedelta(minutes=10)


def _failure(instance: DagsterInstance, run_id: str) -> tuple[str | None, str]:
    """The first failed step and its error, else the run failure's own message (a run the
    daemon failed because its process died has no failed step)."""
    entries = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE}
    ).records
    for record in entries:
        event = record.event_log_entry.dagster_event
        if event and event.event_type == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            return (
                event.step_key,
                _chain(error) if error else record.event_log_entry.message,
            )
    messages = [r.event_log_entry.message for r in entries]
    return None, messages[-1] if messages else "the run failed"


def _chain(error) -> str:
    """The error and what caused it, without the tracebacks: Dagster wraps the user's error."""
    messages = []
    while error is not None:
        messages.append(error.message.strip().rstrip(":"))
        error = error.cause
    return " — caused by: ".join(messages)


@sensor(
    name="run_failure_alerts",
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Publishes every failed run (job, run id, partition, step, error) to `alerts` and "
        "records it on `audit-logs`, exactly once, however the run was launched (UI, sensor, "
        "schedule, `sdp materialize`, `dagster asset materialize`) and also when it failed "
        "while the daemon was down: each tick reads the failed runs from the instance since its "
        "cursor, and the outbox drops an event id it already holds."
    ),
)
def run_failure_alerts(
    context: SensorEvaluationContext, warehouse: WarehouseResource, events: EventBusResource
) -> SkipReason:
    now = datetime.now(UTC)
    since = (
        datetime.fromtimestamp(float(context.cursor), UTC) - CURSOR_OVERLAP
        if context.cursor
        else now - FIRST_LOOKBACK
    )
    records = context.instance.get_run_records(
        filters=RunsFilter(statuses=[DagsterRunStatus.FAILURE], updated_after=since),
        order_by="update_timestamp",
        ascending=True,
    )
    if not records:
        return SkipReason(f"no run failed since {since:%Y-%m-%d %H:%M:%S} UTC")
    alerts, audits = [], []
    for record in records:
        run = record.dagster_run
        step, error = _failure(context.instance, run.run_id)
        payload = {**_run_payload(context.instance, run), "step": step, "error": error}
        alerts.append(
            envelope("run_failed", "dagster", payload, event_id=f"run-failed-{run.run_id}")
        )
        audits.append(
            envelope("run.failed", "dagster", payload, event_id=f"audit-run-failed-{run.run_id}")
        )
    with warehouse.connect() as conn:
        new = events.emit(conn, ALERTS_TOPIC, alerts, context.log.info)
        events.emit(conn, AUDIT_TOPIC, audits, context.log.info)
    newest = max(r.update_timestamp for r in records)
    context.update_cursor(str(newest.replace(tzinfo=newest.tzinfo or UTC).timestamp()))
    return SkipReason(f"{new} failed runs alerted, {len(records) - new} already were")
