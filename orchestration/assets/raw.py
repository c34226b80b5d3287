"""Group `raw`: one daily-partitioned asset per source entity of the landing contract, all
materialized by one subsettable step."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from pydantic import Field

from orchestration.partitions import daily_partitions
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from sdp.contracts import Entity, load_contract
from sdp.events import envelope
from sdp.ingest.loader import LoadResult
from sdp.ingest.partition import PartitionLoad, load_partition
from sdp.ingest.summary import DayLedger, day_ledger


class RawLoadConfig(Config):
    batch_ids: list[str] = Field(
        default_factory=list,
        description="load only these batches of the partition (the sensors set it); empty: all",
    )
    force: bool = Field(
        default=False, description="reload batches already loaded with the same content"
    )


# the step that loads every raw entity; the sensors' run config is keyed by it
RAW_STEP = "raw_feeds"


def raw_asset_key(entity: Entity) -> AssetKey:
    return AssetKey(["raw", entity.qualified])


def _batches_table(ledger: DayLedger, this_run: set[str]) -> str:
    rows = [
        "| batch | status | loaded | rejected | method | loaded at |",
        "|---|---|---:|---:|---|---|",
    ]
    for b in ledger.batches:
        status = b.status if b.batch_id in this_run else f"{b.status} (unchanged)"
        rows.append(
            f"| {b.batch_id} | {status} | {b.rows_loaded:,} | {b.rows_rejected:,} | {b.method} | "
            f"{b.loaded_at:%Y-%m-%d %H:%M:%S} |"
        )
    return "\n".join(rows)


def _rejects_table(totals: dict[str, int]) -> str:
    rows = ["| rule | rows |", "|---|---:|"]
    rows += [f"| {rule} | {n:,} |" for rule, n in sorted(totals.items(), key=lambda kv: -kv[1])]
    return "\n".join(rows)


def _day_status(load: PartitionLoad, ledger: DayLedger) -> str:
    if load.rejected_batches:
        return "rejected"
    if load.batches:
        return "loaded"
    return "unchanged" if ledger.batches else "nothing landed"


def _day_metadata(load: PartitionLoad, ledger: DayLedger) -> dict[str, MetadataValue]:
    """One day's figures: what the warehouse holds of it (a re-run that found every batch
    already loaded says `unchanged` with those rows), and what this run did to it."""
    return {
        "status": MetadataValue.text(_day_status(load, ledger)),
        "rows_loaded": MetadataValue.int(ledger.rows_loaded),
        "rows_rejected": MetadataValue.int(ledger.rows_rejected),
        "batches": MetadataValue.int(len(ledger.batches)),
        "bytes": MetadataValue.int(ledger.bytes),
        "rows_loaded_this_run": MetadataValue.int(load.rows_loaded),
        "batches_this_run": MetadataValue.int(len(load.batches)),
        "seconds": MetadataValue.float(float(round(load.seconds, 3))),
        "rows_per_second": MetadataValue.float(
            float(round(load.rows_in / load.seconds, 1)) if load.seconds else 0.0
        ),
        "batch_outcomes": MetadataValue.md(
            _batches_table(ledger, {b.batch_id for b in load.batches})
        ),
        "rejects_by_rule": MetadataValue.md(_rejects_table(ledger.rejects_by_rule)),
    }


def _load_event(b: LoadResult, run_id: str) -> dict:
    """`audit-logs`: a batch's load outcome; the id names batch and load, so a re-run of the
    same load records nothing new while a forced reload is a load of its own."""
    return envelope(
        f"batch.{b.status}",
        "raw",
        {
            "batch_id": b.batch_id,
            "source": b.source,
            "entity": b.entity,
            "partition_date": b.partition_date,
            "file": b.file,
            "rows_in": b.rows_in,
            "rows_loaded": b.rows_loaded,
            "rows_rejected": b.rows_rejected,
            "method": b.method,
            "seconds": round(b.seconds, 3),
            "error": b.error,
            "run_id": run_id,
        },
        event_id=f"load-{b.batch_id}-{run_id}",
    )


def _raw_spec(entity: Entity) -> AssetSpec:
    columns = ", ".join(f"{c.name}{'*' if c.required else ''} ({c.type})" for c in entity.columns)
    return AssetSpec(
        key=raw_asset_key(entity),
        group_name="raw",
        kinds={"postgres"},
        partitions_def=daily_partitions,
        skippable=True,
        description=(
            f"`{entity.source}.{entity.name}` batches landed for the day, loaded with COPY into "
            f"`raw.{entity.qualified}`; rows breaking the contract go to `raw._rejects`. "
            f"Key: ({', '.join(entity.key)}). Columns (* required): {columns}."
        ),
        metadata={"table": f"raw.{entity.qualified}", "source": entity.source},
    )


def _load_entity(
    context: AssetExecutionContext,
    conn,
    entity: Entity,
    config: RawLoadConfig,
    landing: LandingResource,
) -> tuple[list[PartitionLoad], MaterializeResult]:
    """One entity's days: each day's figures on its own partition, the table's total on the
    materialization."""
    key = raw_asset_key(entity)
    loads: list[PartitionLoad] = []
    empty_days: list[str] = []
    for day in context.partition_keys:
        load = load_partition(
            conn,
            landing.root(),
            entity,
            day,
            log=context.log.info,
            batch_ids=set(config.batch_ids) or None,
            force=config.force,
        )
        loads.append(load)
        ledger = day_ledger(conn, entity.source, entity.name, day)
        if not ledger.batches:
            empty_days.append(day)
        # partition-scoped: each day of a ranged run shows its own figures
        context.add_asset_metadata(_day_metadata(load, ledger), asset_key=key, partition_key=day)
    total_rows = conn.execute(f'select count(*) from raw."{entity.qualified}"').fetchone()[0]
    metadata: dict[str, MetadataValue] = {"table_rows_total": MetadataValue.int(total_rows)}
    extra = sorted({c for load in loads for b in load.batches for c in b.extra_columns})
    missing = sorted({c for load in loads for b in load.batches for c in b.missing_columns})
    if extra:
        metadata["extra_columns_ignored"] = MetadataValue.text(", ".join(extra))
    if missing:
        metadata["optional_columns_missing"] = MetadataValue.text(", ".join(missing))
    if empty_days:
        context.log.warning(f"no batch landed for {entity.qualified} on {', '.join(empty_days)}")
    return loads, MaterializeResult(asset_key=key, metadata=metadata)


def build_raw_feeds(entities: list[Entity]) -> AssetsDefinition:
    """Every raw entity in one step: a day's loads are seconds of work each, and a step per
    entity paid a process start and a code-location import per entity. Subsettable, so a
    sensor's run loads just its batch's entity."""
    by_key = {raw_asset_key(e): e for e in entities}

    @multi_asset(
        name=RAW_STEP,
        specs=[_raw_spec(e) for e in entities],
        partitions_def=daily_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        can_subset=True,
        description="Loads the landed batches of the run's days for each selected raw asset.",
    )
    def _raw(
        context: AssetExecutionContext,
        config: RawLoadConfig,
        warehouse: WarehouseResource,
        landing: LandingResource,
        events: EventBusResource,
    ):
        rejected: list[LoadResult] = []
        with warehouse.connect() as conn:
            for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
                loads, result = _load_entity(context, conn, by_key[key], config, landing)
                audit = [_load_event(b, context.run.run_id) for ld in loads for b in ld.batches]
                events.emit(conn, "audit-logs", audit, context.log.info)
                failed = [b for ld in loads for b in ld.rejected_batches]
                if failed:
                    # no materialization for an entity with a rejected batch; its good batches
                    # are committed, and the step fails below so that nobody misses it
                    rejected += failed
                    context.log.error(f"{key.to_user_string()}: {len(failed)} batch(es) rejected")
                else:
                    yield result
        if rejected:
            raise Failure(description="; ".join(f"{b.batch_id}: {b.error}" for b in rejected))

    return _raw


LOADS_REGISTRY = AssetSpec(
    key=AssetKey(["raw", "_loads"]),
    group_name="raw",
    kinds={"postgres"},
    description=(
        "`raw._loads`: one row per landed batch (the idempotency key) with its outcome, rows "
        "in, loaded and rejected. Written by every raw asset in the same transaction as the "
        "batch's rows; staging reads it to order versions by landing time."
    ),
)


def raw_assets() -> list[AssetsDefinition | AssetSpec]:
    return [build_raw_feeds(load_contract().entities), LOADS_REGISTRY]
