"""The code location: every asset, check, sensor and resource of the platform."""

from dagster import Definitions

from orchestration.assets.dbt import dbt_models, dbt_partitioned_models, dbt_resource
from orchestration.assets.quality import quality_assets, soda_checks
from orchestration.assets.raw import raw_assets
from orchestration.assets.reconciliation import reconciliation_assets
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from orchestration.sensors import landing_folder_sensor

defs = Definitions(
    assets=[
        *raw_assets(),
        *reconciliation_assets,
        dbt_models,
        dbt_partitioned_models,
        *quality_assets,
    ],
    asset_checks=soda_checks,
    sensors=[landing_folder_sensor],
    resources={
        "warehouse": WarehouseResource(),
        "landing": LandingResource(),
        "events": EventBusResource(),
        "dbt": dbt_resource(),
    },
)
