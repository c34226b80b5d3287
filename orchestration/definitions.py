"""The code location: every asset, check, sensor and resource of the platform."""

from dagster import Definitions, multiprocess_executor

from orchestration.assets.dbt import dbt_resource
from orchestration.assets.rca import rca_report
from orchestration.assets.streaming import cdr_events
from orchestration.graph import BUILD_ASSETS, SODA_SCANS
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from orchestration.run_events import run_failure_alerts, run_success_events
from orchestration.schedules import daily_refresh_job, daily_refresh_schedule
from orchestration.sensors import (
    cdr_events_sensor,
    event_outbox_sensor,
    landing_events_sensor,
    landing_folder_sensor,
)

# A process per step, each forked from one that imported the code location and the instance's
# storage once: a spawned step imports both again (about 5 s of CPU per step, 45 steps in a
# whole-graph run, on 2 cores). Without the explicit list the fork server preloads nothing.
STEP_EXECUTOR = multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": [__name__, "dagster_postgres"]}}},
    name="forked_multiprocess",
)

defs = Definitions(
    executor=STEP_EXECUTOR,
    assets=[*BUILD_ASSETS, cdr_events, rca_report],
    asset_checks=SODA_SCANS,
    jobs=[daily_refresh_job],
    schedules=[daily_refresh_schedule],
    sensors=[
        landing_events_sensor,
        cdr_events_sensor,
        landing_folder_sensor,
        event_outbox_sensor,
        run_success_events,
        run_failure_alerts,
    ],
    resources={
        "warehouse": WarehouseResource(),
        "landing": LandingResource(),
        "events": EventBusResource(),
        "dbt": dbt_resource(),
    },
)
