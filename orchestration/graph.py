"""The asset graph's members, listed once: the code location serves them and the in-process
build (tests, benchmarks) materializes them."""

from dagster import AssetKey, AssetsDefinition

from orchestration.assets.dbt import dbt_models, dbt_partitioned_models
from orchestration.assets.quality import quality_assets, soda_scan_steps
from orchestration.assets.raw import raw_assets
from orchestration.assets.rca import rca_findings
from orchestration.assets.reconciliation import reconciliation_assets
from orchestration.assets.reference import phone_numbers

RAW = raw_assets()


def _producers(*steps: AssetsDefinition) -> dict[AssetKey, str]:
    """asset key -> the name of the step that materializes it."""
    return {key: step.node_def.name for step in steps for key in step.keys}


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
    _producers(
        *(a for a in RAW if isinstance(a, AssetsDefinition)), dbt_models, dbt_partitioned_models
    )
)
