"""The code location: every asset, check, sensor and resource of the platform."""

from dagster import Definitions

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

defs = Definitions(
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
