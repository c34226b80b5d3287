"""The asset graph's members, listed once: the code location serves them and the in-process
build (tests, benchmarks) materializes them."""

from dagster import AssetsDefinition

from orchestration.assets.dbt import dbt_models, dbt_partitioned_models
from orchestration.assets.quality import quality_assets, soda_scan_steps
from orchestration.assets.raw import raw_assets
from orchestration.assets.rca import rca_findings
from orchestration.assets.reconciliation import reconciliation_assets
from orchestration.assets.reference import phone_numbers

RAW = raw_assets()


# raw → phone numbers → Zingg → dbt → quality → RCA: what one run over landed days builds
BUILD_ASSETS = [
    *RAW,
    phone_numbers,
    *reconciliation_assets,
    dbt_models,
    dbt_partitioned_models,
    *quality_assets,
    rca_findings,
]
SODA_SCANS = soda_scan_steps(
    {key for a in RAW if isinstance(a, AssetsDefinition) for key in a.keys}
)
