"""Group `reconciliation`: Zingg on Spark matches CRM duplicates and links CRM to billing."""

import json

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.resources import LandingResource, WarehouseResource
from sdp.scoring.matching import score_matching
from sdp.settings import load_settings
from sdp.zingg.configs import load_model
from sdp.zingg.pipeline import Reconciler, ZinggResult


def _metadata(
    context: AssetExecutionContext, result: ZinggResult, conn, model: str, landing: LandingResource
) -> dict:
    retrained = any(p.phase in ("train", "trainMatch") for p in result.phases)
    metadata = {
        "records_compared": MetadataValue.int(result.records),
        "output_rows": MetadataValue.int(result.output_rows),
        "model_fingerprint": MetadataValue.text(result.fingerprint),
        "retrained": MetadataValue.bool(retrained),
        "phases": MetadataValue.md(
            "| phase | seconds | log |\n|---|---:|---|\n"
            + "\n".join(f"| {p.phase} | {p.seconds:.1f} | {p.log} |" for p in result.phases)
        ),
    }
    truth = landing.root() / "ground_truth.json"
    if truth.exists():  # a generated scenario: show how right the answer is
        figures = score_matching(conn, json.loads(truth.read_text())).get(model, {})
        for name in ("precision", "recall", "f1"):
            if name in figures:
                metadata[f"{model}_{name}"] = MetadataValue.float(float(figures[name]))
        context.log.info(f"{model} against the ground truth: {figures}")
    return metadata


@asset(
    key=AssetKey(["reconciliation", "customer_matches"]),
    group_name="reconciliation",
    kinds={"spark", "postgres"},
    deps=[AssetKey(["staging", "stg_crm__customers"])],
    # unpartitioned, but runs over a range of days (the CLI, schedules) include it
    backfill_policy=BackfillPolicy.single_run(),
    code_version=load_model("match").fingerprint(),
    description=(
        "Zingg deduplication inside CRM customers (`zingg_configs/match.json`): one row per "
        "customer with its cluster and scores in `reconciliation.customer_matches`. The model "
        "is retrained when its configuration, its shipped samples or the reviewed pairs change."
    ),
)
def customer_matches(
    context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
) -> MaterializeResult:
    with warehouse.connect() as conn:
        context.log.info("Zingg match: exporting CRM customers and running Spark")
        result = Reconciler(conn, load_settings()).match()
        clusters = conn.execute(
            "select count(*) filter (where n > 1), coalesce(sum(n) filter (where n > 1), 0)"
            " from (select count(*) n from reconciliation.customer_matches group by z_cluster) c"
        ).fetchone()
        metadata = _metadata(context, result, conn, "match", landing)
    metadata["duplicate_clusters"] = MetadataValue.int(clusters[0])
    metadata["records_in_duplicate_clusters"] = MetadataValue.int(int(clusters[1]))
    return MaterializeResult(metadata=metadata)


@asset(
    key=AssetKey(["reconciliation", "customer_links"]),
    group_name="reconciliation",
    kinds={"spark", "postgres"},
    deps=[
        AssetKey(["staging", "stg_crm__customers"]),
        AssetKey(["staging", "stg_billing__accounts"]),
    ],
    backfill_policy=BackfillPolicy.single_run(),
    code_version=load_model("link").fingerprint(),
    description=(
        "Zingg link of CRM customers to billing accounts (`zingg_configs/link.json`): one row "
        "per (customer, account) pair with its score in `reconciliation.customer_links`."
    ),
)
def customer_links(
    context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
) -> MaterializeResult:
    with warehouse.connect() as conn:
        context.log.info("Zingg link: exporting CRM customers and billing accounts")
        result = Reconciler(conn, load_settings()).link()
        metadata = _metadata(context, result, conn, "link", landing)
    return MaterializeResult(metadata=metadata)


reconciliation_assets = [customer_matches, customer_links]
