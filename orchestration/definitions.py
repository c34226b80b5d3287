"""The code location: every asset, check, sensor and resource of the platform."""

from __future__ import annotations

from dagster import Definitions

from orchestration.assets.raw import raw_assets
from orchestration.resources import LandingResource, WarehouseResource
from orchestration.sensors import landing_folder_sensor

defs = Definitions(
    assets=[*raw_assets()],
    sensors=[landing_folder_sensor],
    resources={"warehouse": WarehouseResource(), "landing": LandingResource()},
)
