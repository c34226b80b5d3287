"""The whole graph materialized in this process, against a given warehouse and landing folder.

For the test suite and the benchmarks, which must not share state with `make run` and need no
daemon: the same assets, checks and resources as the code location, pointed elsewhere.
"""

from pathlib import Path

from dagster import ExecuteInProcessResult, materialize

from orchestration.assets.dbt import dbt_resource
from orchestration.graph import BUILD_ASSETS, SODA_SCANS
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource


def build_landed_days(url: str, landing: Path, days: list[str]) -> ExecuteInProcessResult:
    """Raw → phone numbers → Zingg → dbt → quality → RCA for the landed days, in one run."""
    return materialize(
        [*BUILD_ASSETS, *SODA_SCANS],
        resources={
            "warehouse": WarehouseResource(url=url),
            "landing": LandingResource(path=str(landing)),
            "events": EventBusResource(),
            "dbt": dbt_resource(),
        },
        tags={
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        },
        raise_on_error=False,
    )
