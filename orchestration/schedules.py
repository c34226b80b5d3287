"""The nightly refresh: the whole graph for the day that just ended."""

from datetime import timedelta

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from orchestration.assets.streaming import CDR_STREAM_KEY
from sdp.operator import load_profile

daily_refresh_job = define_asset_job(
    "daily_refresh",
    # daily partitions, inferred from the dated assets; the CDR stream has runs of its own
    selection=AssetSelection.all() - AssetSelection.assets(CDR_STREAM_KEY),
    description="Every asset and check for one day: raw loads, dbt, Zingg, controls, quality.",
)


@schedule(
    name="daily_refresh_schedule",
    job=daily_refresh_job,
    cron_schedule="0 3 * * *",  # after the mediation and billing feeds of the day have landed
    execution_timezone=load_profile().timezone,
    default_status=DefaultScheduleStatus.RUNNING,
    description=(
        "At 03:00 in the operator's time zone, materialize the whole graph for the previous "
        "day's partition."
    ),
)
def daily_refresh_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return RunRequest(run_key=f"daily-{day}", partition_key=day)
