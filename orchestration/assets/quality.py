"""Group `quality`: Soda checks on every dataset, the quality score, anomalies in the history."""

from datetime import date

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset_check,
)

from orchestration.assets.raw import raw_asset_key
from orchestration.resources import EventBusResource, WarehouseResource
from sdp.contracts import load_contract
from sdp.events import EventBusError
from sdp.quality.anomalies import Anomaly
from sdp.quality.history import refresh_anomalies
from sdp.quality.outbox import TOPIC, publish_quality_events
from sdp.quality.scores import QualityScore, refresh_scores
from sdp.quality.soda import CheckOutcome, SodaCheck, load_checks, record_outcomes, scan_dataset

SODA_CHECKS = load_checks()
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def _publish(context: AssetExecutionContext, conn, events: EventBusResource) -> int | None:
    """Send what the outbox holds; a broker that is down only delays the events."""
    try:
        sent = publish_quality_events(conn, events.servers())
    except EventBusError as exc:
        context.log.warning(f"quality events wait in quality.events for Kafka: {exc}")
        return None
    context.log.info(f"{sent} quality events published to {TOPIC}")
    return sent


def _dataset_key(dataset: str) -> AssetKey:
    return AssetKey(dataset.split("."))


def _as_of(context: AssetCheckExecutionContext, conn) -> date | None:
    """The partition day a scan judges freshness against: the run's last partition, else the
    newest partition the warehouse has loaded."""
    tags = context.run.tags
    day = tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)
    if day:
        return date.fromisoformat(day)
    return conn.execute("select max(partition_date) from raw._loads").fetchone()[0]


def _check_result(key: AssetKey, o: CheckOutcome) -> AssetCheckResult:
    metadata = {
        "outcome": MetadataValue.text(o.outcome),
        "threshold": MetadataValue.text(o.check.threshold),
        "definition": MetadataValue.text(o.check.definition),
    }
    if o.value is not None:
        metadata["measured_value"] = MetadataValue.float(o.value)
    if o.detail:
        metadata["soda"] = MetadataValue.text(o.detail)
    return AssetCheckResult(
        asset_key=key,
        check_name=o.check.slug,
        passed=o.outcome == "pass",
        severity=AssetCheckSeverity.WARN if o.outcome == "warn" else AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


def _layers(datasets: dict[str, list[SodaCheck]]) -> set[str]:
    return {d.split(".")[0] for d in datasets}


def _scan_step(name: str, datasets: dict[str, list[SodaCheck]]) -> AssetChecksDefinition:
    """One step scans several datasets in turn: a step per dataset paid a process start and a
    code-location import for a scan of a second or two. Subsettable, so a run that selects some
    of the datasets scans only those."""
    keys = {_dataset_key(d): d for d in datasets}

    @multi_asset_check(
        name=name,
        specs=[
            AssetCheckSpec(
                name=c.slug,
                asset=_dataset_key(dataset),
                description=f"{c.name}: `{c.definition}` ({c.threshold}; {c.severity})",
                blocking=c.blocking,
            )
            for dataset, checks in datasets.items()
            for c in checks
        ],
        can_subset=True,
        description=(
            f"Soda scan of {', '.join(sorted(datasets))} ("
            + ", ".join(f"`soda/checks/{layer}.yml`" for layer in sorted(_layers(datasets)))
            + ")"
        ),
    )
    def _scan(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        wanted: dict[AssetKey, set[str]] = {}
        for k in context.selected_asset_check_keys:
            wanted.setdefault(k.asset_key, set()).add(k.name)
        with warehouse.connect() as conn:
            as_of = _as_of(context, conn)
            for key in sorted(wanted, key=lambda k: k.to_user_string()):
                dataset = keys[key]
                checks = [c for c in datasets[dataset] if c.slug in wanted[key]]
                context.log.info(f"Soda: {len(checks)} checks on {dataset} as of {as_of}")
                outcomes = scan_dataset(warehouse.resolved_url(), dataset, checks, as_of)
                record_outcomes(conn, outcomes, as_of)
                for o in outcomes:
                    yield _check_result(key, o)

    return _scan


def soda_scan_steps(loaded_together: set[AssetKey]) -> list[AssetChecksDefinition]:
    """The Soda checks in steps: the raw datasets (`loaded_together`: one step loads them all,
    none is read by another) share one; every other dataset has a step of its own.

    A step scanning datasets that different steps build is split by Dagster into one step per
    building step, and it names the parts differently from one process to the next (the names
    follow string hashing): a step process has run another part than the one planned and
    scanned a table before it was built. dbt's models are built by steps Dagster itself splits,
    so their scans stay one per dataset; tests/test_step_plan.py keeps the plan stable.
    """
    groups: dict[str, dict[str, list[SodaCheck]]] = {}
    for dataset, checks in SODA_CHECKS.items():
        key = _dataset_key(dataset)
        name = "soda_raw" if key in loaded_together else f"soda_{key.to_python_identifier()}"
        groups.setdefault(name, {})[dataset] = checks
    return [_scan_step(name, datasets) for name, datasets in sorted(groups.items())]


def _anomaly_table(anomalies: list[Anomaly], limit: int = 25) -> str:
    lines = [
        "| day | metric | dimension | observed | expected range | score | method |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for a in anomalies[:limit]:
        lines.append(
            f"| {a.day} | {a.metric} | {a.dimension} | {a.observed:.4g} |"
            f" {a.expected_low:.4g} … {a.expected_high:.4g} | {a.score:.2f} | {a.method} |"
        )
    if len(anomalies) > limit:
        lines.append(f"| … | {len(anomalies) - limit} more in `quality.anomalies` | | | | | |")
    return "\n".join(lines)


@asset(
    key=AssetKey(["quality", "anomalies"]),
    group_name="quality",
    kinds={"postgres", "python"},
    deps=[
        *(raw_asset_key(e) for e in load_contract().entities),
        AssetKey(["staging", "stg_crm__customers"]),
        AssetKey(["staging", "stg_oss__alarms"]),
        AssetKey(["kpis", "kpi_network_element_daily"]),
        AssetKey(["controls", "ctl_leakage_daily"]),
    ],
    backfill_policy=BackfillPolicy.single_run(),
    description=(
        "Anomalies in the daily metric history (`quality.metric_history`: rows landed, reject "
        "and null rates, lateness, columns off the contract per feed; invalid emails and "
        "phones; usage leakage %; network KPIs per element). A robust z-score against a "
        "week-aware baseline per series, plus an IsolationForest over each feed's day profile. "
        "Each anomaly (`quality.anomalies`) names the metric, dimension, day, expected range, "
        "observed value and score; new ones are recorded in `quality.events` and published to "
        "the `quality-events` topic."
    ),
)
def anomalies(
    context: AssetExecutionContext, warehouse: WarehouseResource, events: EventBusResource
) -> MaterializeResult:
    with warehouse.connect() as conn:
        context.log.info("refreshing the metric history and judging it")
        run = refresh_anomalies(conn)
        published = _publish(context, conn, events)
    context.log.info(f"{len(run.anomalies)} anomalies over {run.metric_days} metric-days")
    return MaterializeResult(
        metadata={
            "events_published": MetadataValue.int(published or 0),
            "metric_days": MetadataValue.int(run.metric_days),
            "metrics_refreshed": MetadataValue.int(run.metrics_refreshed),
            "anomalies": MetadataValue.int(len(run.anomalies)),
            "multivariate": MetadataValue.int(
                sum(a.method == "isolation_forest" for a in run.anomalies)
            ),
            "preview": MetadataValue.md(_anomaly_table(run.anomalies)),
        }
    )


def _score_table(scores: list[QualityScore]) -> str:
    lines = [
        "| day | dataset | score | checks | pass | warn | fail |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.day} | {s.dataset} | {s.score:.1f} | {s.checks} | {s.passed} | {s.warned}"
            f" | {s.failed} |"
        )
    return "\n".join(lines)


@asset(
    key=AssetKey(["quality", "scores"]),
    group_name="quality",
    kinds={"postgres", "soda"},
    deps=[_dataset_key(dataset) for dataset in SODA_CHECKS],
    backfill_policy=BackfillPolicy.single_run(),
    description=(
        "Quality score 0–100 per dataset and day, and overall (`quality.scores`), from the "
        "latest result of each Soda check in `quality.check_results`: a pass earns 1, a "
        "warning 0.5, a failure 0; checks that can fail weigh 2, warn-only checks 1 (README). "
        "Publishes the quality events the scans recorded to the `quality-events` topic."
    ),
)
def scores(
    context: AssetExecutionContext, warehouse: WarehouseResource, events: EventBusResource
) -> MaterializeResult:
    with warehouse.connect() as conn:
        computed = refresh_scores(conn)
        published = _publish(context, conn, events)
    latest_day = max((s.day for s in computed), default=None)
    latest = [s for s in computed if s.day == latest_day]
    overall = next((s.score for s in latest if s.dataset == "(overall)"), None)
    context.log.info(f"quality score on {latest_day}: {overall}")
    metadata = {
        "events_published": MetadataValue.int(published or 0),
        "datasets": MetadataValue.int(len({s.dataset for s in computed}) - 1 if computed else 0),
        "days": MetadataValue.int(len({s.day for s in computed})),
        "latest": MetadataValue.md(_score_table(sorted(latest, key=lambda s: s.score))),
    }
    if overall is not None:
        metadata["overall_score"] = MetadataValue.float(overall)
    return MaterializeResult(metadata=metadata)


quality_assets = [scores, anomalies]
