"""The dbt project as assets: staging → marts → KPIs and controls, downstream of the raw assets.

Each dbt source maps onto its raw asset, so the UI shows one graph from landing to controls.
Models tagged `partitioned` (the CDR fact) are built per daily partition through dbt vars; the
rest are rebuilt whole. dbt tests become asset checks, blocking where their severity is error.
"""

import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetSpec,
    BackfillPolicy,
    MetadataValue,
    Output,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from psycopg import sql

from orchestration.assets.streaming import CDR_STREAM_KEY
from orchestration.partitions import daily_partitions
from orchestration.resources import EventBusResource, WarehouseResource
from sdp.dbt_cli import dbt_environment, dbt_vars, parse_cache, reused_parse, run_results_summary
from sdp.dbt_hints import failure_hint
from sdp.events import envelope
from sdp.operator import load_profile

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
PARTITIONED = "tag:partitioned"
LANDED_CDRS = AssetKey(["raw", "cdr_records"])
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

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        """Models that read the landed CDRs also read the ones streamed from Kafka."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        if LANDED_CDRS in {d.asset_key for d in spec.deps}:
            return spec.replace_attributes(deps=[*spec.deps, AssetDep(CDR_STREAM_KEY)])
        return spec

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
    """dbt reads its profile from the environment: point it at this run's warehouse, in the
    operator's time zone.

    Tests run only when every model they read is part of the step ("cautious"): a
    relationship test from a later model must wait for the step that builds that model.
    """
    os.environ.update(dbt_environment(warehouse.resolved_url()))
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "cautious")


@contextmanager
def _build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    variables: str,
    keep_parse: bool,
) -> Iterator[DbtCliInvocation]:
    """`dbt build` of the step's selection in a target directory of its own. With `keep_parse`
    it starts from the partial parse of the last invocation against this warehouse with these
    vars; the partitioned step's vars change every run, so it parses in full and keeps nothing.

    The directory (compiled SQL, logs, artifacts: about 2.5 MB) is removed once the step has
    succeeded, and kept, with its path in the log, when it failed: without that every run left
    five of them behind for good."""
    _dbt_environment(warehouse)
    step = context.op_execution_context.op.name
    target = DBT_DIR / "target" / f"{step}-{context.run.run_id[:8]}-{uuid.uuid4().hex[:7]}"
    args = ["build", "--vars", variables]
    try:
        if keep_parse:
            with reused_parse(parse_cache(warehouse.resolved_url(), variables), target):
                yield dbt.cli(args, context=context, target_path=target)
        else:
            yield dbt.cli(args, context=context, target_path=target)
    except BaseException:
        context.log.error(f"dbt's compiled SQL and logs of this step are kept in {target}")
        raise
    shutil.rmtree(target, ignore_errors=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    exclude=PARTITIONED,
    # unpartitioned, but a run over a range of days (the CLI, the daily schedule) includes them
    backfill_policy=BackfillPolicy.single_run(),
    name="dbt_models",
)
def dbt_models(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    events: EventBusResource,
):
    """Every model but the partitioned facts, rebuilt whole with their tests (`dbt build`)."""
    with _build(context, dbt, warehouse, dbt_vars(), keep_parse=True) as invocation:
        try:
            yield from _with_hints(context, _with_row_counts(invocation, warehouse), warehouse)
        finally:
            _emit_dbt_event(context, invocation, warehouse, events)


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
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    events: EventBusResource,
):
    """Incremental facts built for the run's days only (dbt vars partition_start/_end)."""
    days = context.partition_keys
    variables = dbt_vars(partition_start=days[0], partition_end=days[-1])
    context.log.info(f"building {days[0]} .. {days[-1]}")
    with _build(context, dbt, warehouse, variables, keep_parse=False) as invocation:
        try:
            yield from _with_hints(context, _with_row_counts(invocation, warehouse), warehouse)
        finally:
            _emit_dbt_event(context, invocation, warehouse, events)


ROW_COUNT = "dagster/row_count"  # Dagster's standard key: the UI plots it per materialization


def _with_row_counts(invocation: DbtCliInvocation, warehouse: WarehouseResource) -> Iterator[Any]:
    """Each built table's row count, counted in this run's warehouse.

    dagster-dbt's own `fetch_row_counts` queries the relation name the manifest was parsed with
    (`warehouse.schema.table`): against a warehouse database of any other name PostgreSQL
    refuses the cross-database reference, logs a traceback per model and no count is kept. The
    schema and alias are the operator's; the database is the connection's."""
    nodes = invocation.manifest["nodes"]
    with warehouse.connect() as conn:
        for event in invocation.stream():
            if isinstance(event, (Output, AssetMaterialization)):
                node = nodes.get(str(getattr(event.metadata.get("unique_id"), "value", "")))
                if node and node["config"]["materialized"] in ("table", "incremental"):
                    (count,) = conn.execute(
                        sql.SQL("select count(*) from {}.{}").format(
                            sql.Identifier(node["schema"]), sql.Identifier(node["alias"])
                        )
                    ).fetchone()
                    conn.commit()  # no lock kept on a table the build replaces next
                    event = event.with_metadata(
                        {**event.metadata, ROW_COUNT: MetadataValue.int(count)}
                    )
            yield event


def _with_hints(
    context: AssetExecutionContext, events: Iterator[Any], warehouse: WarehouseResource
) -> Iterator[Any]:
    """A failing test that declares a hint (`meta.hint`, see sdp.dbt_hints) says what is likely
    wrong: in the run log and in its check's description and metadata."""
    manifest: dict | None = None
    for event in events:
        if isinstance(event, AssetCheckResult) and not event.passed:
            if manifest is None:
                manifest = json.loads(Path(dbt_project.manifest_path).read_text())
            failures = event.metadata.get("dagster_dbt/failed_row_count")
            test_id = event.metadata.get("unique_id")
            with warehouse.connect() as conn:
                hint = failure_hint(
                    conn,
                    manifest,
                    str(getattr(test_id, "value", test_id)),
                    int(getattr(failures, "value", failures) or 0),
                    load_profile(),
                )
            if hint:
                context.log.error(hint)
                event = event._replace(
                    description=hint, metadata={**event.metadata, "hint": MetadataValue.md(hint)}
                )
        yield event


def _emit_dbt_event(
    context: AssetExecutionContext,
    invocation: DbtCliInvocation,
    warehouse: WarehouseResource,
    events: EventBusResource,
) -> None:
    """`dbt-events`: what the build did (counts per status, failures), whether it passed."""
    try:
        run_results = invocation.get_artifact("run_results.json")
    except FileNotFoundError:
        context.log.warning("dbt wrote no run_results.json: no dbt event")
        return
    summary = run_results_summary(run_results)
    partitions = context.partition_keys if context.assets_def.partitions_def else []
    summary.update(
        {
            "run_id": context.run.run_id,
            "step": context.assets_def.node_def.name,
            "partitions": [partitions[0], partitions[-1]] if partitions else None,
            "succeeded": invocation.is_successful(),
        }
    )
    event = envelope(
        "dbt.build.finished",
        "dbt",
        summary,
        event_id=f"dbt-{summary['invocation_id'] or context.run.run_id}",
    )
    with warehouse.connect() as conn:
        events.emit(conn, "dbt-events", [event], context.log.info)


def dbt_resource() -> DbtCliResource:
    # the dbt installed beside this interpreter, whether or not the venv is on PATH
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=os.fspath(DBT_DIR),
        dbt_executable=os.fspath(Path(sys.executable).with_name("dbt")),
    )
