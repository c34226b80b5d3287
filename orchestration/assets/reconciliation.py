"""Group `reconciliation`: Zingg on Spark matches CRM duplicates and links CRM to billing."""

import json
from concurrent.futures import ThreadPoolExecutor

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from sdp.events import envelope
from sdp.scoring.matching import blocking_recall, score_matching, truth_pairs
from sdp.settings import load_settings
from sdp.zingg.configs import load_model
from sdp.zingg.pipeline import Reconciler, TrainedModel, ZinggResult


def _metadata(
    context: AssetExecutionContext, result: ZinggResult, conn, model: str, landing: LandingResource
) -> dict:
    retrained = any(p.phase == "train" for p in result.phases)
    blocking = result.blocks.figures()
    metadata = {
        "records_compared": MetadataValue.int(result.records),
        # what Zingg's blocking let the classifier see: a pair in no common block is never matched
        "pairs_compared": MetadataValue.int(blocking["pairs_compared"]),
        "blocks": MetadataValue.int(blocking["blocks"]),
        "largest_block": MetadataValue.int(blocking["largest_block"]),
        "output_rows": MetadataValue.int(result.output_rows),
        "model_fingerprint": MetadataValue.text(result.fingerprint),
        "retrained": MetadataValue.bool(retrained),
        "phases": MetadataValue.md(
            "| phase | seconds | peak MiB | log |\n|---|---:|---:|---|\n"
            + "\n".join(
                f"| {p.phase} | {p.seconds:.1f} | {p.peak_rss_mib:.0f} | {p.log} |"
                for p in result.phases
            )
        ),
    }
    truth = landing.root() / "ground_truth.json"
    context.log.info(f"{model} blocking: {blocking}")
    if truth.exists():  # a generated scenario: show how right the answer is
        answers = json.loads(truth.read_text())
        figures = score_matching(conn, answers).get(model, {})
        for name in ("precision", "recall", "f1"):
            if name in figures:
                metadata[f"{model}_{name}"] = MetadataValue.float(float(figures[name]))
        compared = blocking_recall(result.blocks, truth_pairs(answers)[model])
        metadata["true_pairs"] = MetadataValue.int(compared["true_pairs"])
        metadata["true_pairs_compared"] = MetadataValue.int(compared["true_pairs_compared"])
        metadata["blocking_recall"] = MetadataValue.float(float(compared["blocking_recall"]))
        context.log.info(f"{model} against the ground truth: {figures}, blocking: {compared}")
    return metadata


def _emit(
    context: AssetExecutionContext,
    conn,
    events: EventBusResource,
    model: str,
    result: ZinggResult,
    figures: dict,
) -> None:
    """One `reconciliation-events` event per Zingg run, with its outcome in numbers."""
    payload = {
        "model": model,
        "run_id": context.run.run_id,
        "records_compared": result.records,
        "output_rows": result.output_rows,
        "model_fingerprint": result.fingerprint,
        "retrained": any(p.phase == "train" for p in result.phases),
        "seconds": round(sum(p.seconds for p in result.phases), 1),
        **result.blocks.figures(),
        **figures,
    }
    event = envelope(
        f"zingg.{model}.finished",
        "reconciliation",
        payload,
        event_id=f"zingg-{model}-{context.run.run_id}",
    )
    events.emit(conn, "reconciliation-events", [event], context.log.info)


STAGING_INPUTS = {
    "match": [AssetKey(["staging", "stg_crm__customers"])],
    "link": [
        AssetKey(["staging", "stg_crm__customers"]),
        AssetKey(["staging", "stg_billing__accounts"]),
    ],
}
# The longest steps of a run, on its critical path (the golden customers and every control
# after them wait for both): when a slot frees, they start before ready dbt or Soda steps.
FIRST_WHEN_READY = {"dagster/priority": "10"}
MODEL_PURPOSE = {
    "match": "deduplication inside CRM customers",
    "link": "linking CRM customers to billing accounts",
}


def _model_metadata(trained: TrainedModel) -> dict:
    return {
        "model_fingerprint": MetadataValue.text(trained.fingerprint),
        "retrained": MetadataValue.bool(trained.retrained),
        "labelled_pairs": MetadataValue.int(trained.labelled_pairs),
        "reviewed_pairs": MetadataValue.int(trained.reviewed_pairs),
        "records_seen": MetadataValue.int(trained.records),
        "model_directory": MetadataValue.path(str(trained.directory)),
        # the learnt blocking: records compare only when they agree on these hashes
        "blocking_fields": MetadataValue.text(", ".join(trained.blocking.fields)),
        "blocking_tree": MetadataValue.md(trained.blocking.markdown()),
        "training_seconds": MetadataValue.float(
            round(sum(p.seconds for p in trained.phases), 1) + 0.0
        ),
        "training_peak_mib": MetadataValue.float(
            float(round(max((p.peak_rss_mib for p in trained.phases), default=0.0)))
        ),
    }


MODELS = ("match", "link")


def model_key(name: str) -> AssetKey:
    return AssetKey(["reconciliation", f"{name}_model"])


@multi_asset(
    name="zingg_models",
    specs=[
        AssetSpec(
            model_key(name),
            group_name="reconciliation",
            kinds={"spark"},
            deps=[*STAGING_INPUTS[name], AssetKey(["reconciliation", "match_reviews"])],
            skippable=True,
            # the shipped config and samples; reviewed pairs also retrain, checked at run time
            code_version=load_model(name).fingerprint(),
            description=(
                f"The trained Zingg model for {MODEL_PURPOSE[name]} (`zingg_configs/{name}.json`, "
                f"labelled pairs in `zingg_configs/training/{name}.csv` plus reviewed pairs from "
                "`reconciliation.match_reviews`). Training runs only when the configuration, the "
                "samples or the reviews changed since the model on disk; otherwise the "
                "materialization records that the model is current."
            ),
        )
        for name in MODELS
    ],
    can_subset=True,
    backfill_policy=BackfillPolicy.single_run(),
    op_tags=FIRST_WHEN_READY,
)
def zingg_models(context: AssetExecutionContext, warehouse: WarehouseResource):
    """Both models in one step, trained side by side: a training is mostly Spark scheduling
    many small jobs, so two JVMs share two cores well (and a process that runs its steps one
    after another, as the in-process build does, no longer trains them in turn)."""
    names = [n for n in MODELS if model_key(n) in context.selected_asset_keys]

    def train(name: str) -> TrainedModel:
        with warehouse.connect() as conn:
            context.log.info(f"Zingg {name} model: checking the fingerprint, training if stale")
            return Reconciler(conn, load_settings()).train(name)

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        futures = {name: pool.submit(train, name) for name in names}
    failed = []
    for name, future in futures.items():
        if future.exception() is not None:
            failed.append(f"Zingg {name} model: {future.exception()}")
            continue
        trained = future.result()
        context.log.info(
            f"Zingg {name} model {trained.fingerprint}: "
            + ("retrained" if trained.retrained else "already current, not retrained")
        )
        yield MaterializeResult(asset_key=model_key(name), metadata=_model_metadata(trained))
    if failed:
        raise Failure("\n".join(failed))


@asset(
    key=AssetKey(["reconciliation", "customer_matches"]),
    group_name="reconciliation",
    kinds={"spark", "postgres"},
    deps=[*STAGING_INPUTS["match"], model_key("match")],
    # unpartitioned, but runs over a range of days (the CLI, schedules) include it
    backfill_policy=BackfillPolicy.single_run(),
    op_tags=FIRST_WHEN_READY,
    description=(
        "Zingg deduplication inside CRM customers (`zingg_configs/match.json`): one row per "
        "customer with its cluster and scores in `reconciliation.customer_matches`, from the "
        "current `reconciliation/match_model`."
    ),
)
def customer_matches(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    landing: LandingResource,
    events: EventBusResource,
) -> MaterializeResult:
    with warehouse.connect() as conn:
        context.log.info("Zingg match: exporting CRM customers and running Spark")
        result = Reconciler(conn, load_settings()).match()
        clusters = conn.execute(
            "select count(*) filter (where n > 1), coalesce(sum(n) filter (where n > 1), 0)"
            " from (select count(*) n from reconciliation.customer_matches group by z_cluster) c"
        ).fetchone()
        metadata = _metadata(context, result, conn, "match", landing)
        _emit(
            context,
            conn,
            events,
            "match",
            result,
            {"duplicate_clusters": clusters[0], "records_in_duplicate_clusters": int(clusters[1])},
        )
    metadata["duplicate_clusters"] = MetadataValue.int(clusters[0])
    metadata["records_in_duplicate_clusters"] = MetadataValue.int(int(clusters[1]))
    return MaterializeResult(metadata=metadata)


@asset(
    key=AssetKey(["reconciliation", "customer_links"]),
    group_name="reconciliation",
    kinds={"spark", "postgres"},
    deps=[*STAGING_INPUTS["link"], model_key("link")],
    backfill_policy=BackfillPolicy.single_run(),
    op_tags=FIRST_WHEN_READY,
    description=(
        "Zingg link of CRM customers to billing accounts (`zingg_configs/link.json`): one row "
        "per (customer, account) pair Zingg clustered, with its score, whether it reached the "
        "acceptance floor and whether it is doubtful, in `reconciliation.customer_links`, from "
        "the current `reconciliation/link_model`."
    ),
)
def customer_links(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    landing: LandingResource,
    events: EventBusResource,
) -> MaterializeResult:
    with warehouse.connect() as conn:
        context.log.info("Zingg link: exporting CRM customers and billing accounts")
        result = Reconciler(conn, load_settings()).link()
        metadata = _metadata(context, result, conn, "link", landing)
        links = conn.execute(
            "select count(*) from reconciliation.customer_links where accepted"
        ).fetchone()[0]
        _emit(context, conn, events, "link", result, {"links": links})
    return MaterializeResult(metadata=metadata)


reconciliation_assets = [zingg_models, customer_matches, customer_links]
