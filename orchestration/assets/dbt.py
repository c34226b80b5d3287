"""The dbt project as assets: staging → marts → KPIs and controls, downstream of the raw assets.

Each dbt source maps onto its raw asset, so the UI shows one graph from landing to controls.
Models tagged `partitioned` (the CDR fact) are built per daily partition through dbt vars; the
rest are rebuilt whole. dbt tests become asset checks, blocking where their severity is error.
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.partitions import daily_partitions
from orchestration.resources import WarehouseResource
from sdp.runtime.services import warehouse_parts

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
PARTITIONED = "tag:partitioned"
LAYER_DESCRIPTIONS = {
    "staging": "cleaned and current version per key",
    "marts": "business entities and facts",
    "reconciliation": "golden customers built from Zingg's matches and links",
    "kpis": "network and business KPIs",
    "controls": "revenue-assurance controls: one row per exception",
}


class SdpDbtTranslator(DagsterDbtTranslator):
    """Sources are the raw assets; models are keyed and grouped by their layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # raw.cdr_records is the asset raw/cdr_records, reconciliation.* the Zingg assets
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return dbt_resource_props["source_name"]
        return self._layer(dbt_resource_props)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        description = super().get_description(dbt_resource_props)
        layer = self._layer(dbt_resource_props)
        if layer in LAYER_DESCRIPTIONS:
            return f"{description}\n\nLayer `{layer}`: {LAYER_DESCRIPTIONS[layer]}."
        return description

    @staticmethod
    def _layer(dbt_resource_props: Mapping[str, Any]) -> str:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = SdpDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def _dbt_environment(warehouse: WarehouseResource) -> None:
    """dbt reads its profile from the environment: point it at this run's warehouse.

    Tests run only when every model they read is part of the step ("cautious"): a
    relationship test from a later model must wait for the step that builds that model.
    """
    os.environ.update(warehouse_parts(warehouse.resolved_url()))
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "cautious")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    exclude=PARTITIONED,
    # unpartitioned, but a run over a range of days (the CLI, the daily schedule) includes them
    backfill_policy=BackfillPolicy.single_run(),
    name="dbt_models",
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Every model but the partitioned facts, rebuilt whole with their tests (`dbt build`)."""
    _dbt_environment(warehouse)
    yield from dbt.cli(["build"], context=context).stream().fetch_row_counts()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select=PARTITIONED,
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    name="dbt_partitioned_models",
)
def dbt_partitioned_models(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """Incremental facts built for the run's days only (dbt vars partition_start/_end)."""
    _dbt_environment(warehouse)
    days = context.partition_keys
    variables = f'{{"partition_start": "{days[0]}", "partition_end": "{days[-1]}"}}'
    context.log.info(f"building {days[0]} .. {days[-1]}")
    yield from (
        dbt.cli(["build", "--vars", variables], context=context).stream().fetch_row_counts()
    )


def dbt_resource() -> DbtCliResource:
    # the dbt installed beside this interpreter, whether or not the venv is on PATH
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=os.fspath(DBT_DIR),
        dbt_executable=os.fspath(Path(sys.executable).with_name("dbt")),
    )
