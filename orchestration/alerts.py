"""Failed runs become events on the `alerts` topic, where on-call tooling listens."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from orchestration.resources import EventBusResource
from sdp.events import envelope, publish

ALERTS_TOPIC = "alerts"


@run_failure_sensor(
    name="run_failure_alerts",
    description="Publishes every failed run (job, run id, partition, error) to `alerts`.",
    default_status=DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
)
def run_failure_alerts(context: RunFailureSensorContext, events: EventBusResource) -> None:
    run = context.dagster_run
    failure = context.failure_event
    event = envelope(
        "run_failed",
        "dagster",
        {
            "run_id": run.run_id,
            "job": run.job_name,
            "partition": run.tags.get("dagster/partition"),
            "step": failure.step_key,
            "error": failure.message,
        },
        event_id=f"run-failed-{run.run_id}",  # a re-evaluated tick sends the same event
    )
    publish(events.servers(), ALERTS_TOPIC, [event])
    context.log.info(f"alerted on failed run {run.run_id} of {run.job_name}")
