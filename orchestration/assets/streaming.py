"""CDRs streamed on Kafka: micro-batches from `cdr-events` appended to `raw.cdr_records`."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from orchestration.resources import EventBusResource, WarehouseResource
from sdp.events import EventBusError, envelope, partition_offsets
from sdp.ingest.stream import CDR_TOPIC, StreamLoad, committed_offsets, load_cdr_ranges

CDR_STREAM_KEY = AssetKey(["raw", "cdr_events"])


class CdrStreamConfig(Config):
    ranges: dict[str, list[int]] = Field(
        default_factory=dict,
        description=(
            "offsets to load per partition, {partition: [start, end)} (the sensor sets it); "
            "empty: everything from the committed offsets to the topic's current end"
        ),
    )


def _partitions_table(load: StreamLoad) -> str:
    rows = [
        "| partition | offsets | events | loaded | rejected | batch |",
        "|---:|---|---:|---:|---:|---|",
    ]
    rows += [
        f"| {p.partition} | {p.first}..{p.end - 1} | {p.events:,} | {p.loaded:,} | "
        f"{p.rejected:,} | {p.batch_id} |"
        for p in load.partitions
    ]
    return "\n".join(rows)


@asset(
    key=CDR_STREAM_KEY,
    group_name="raw",
    kinds={"kafka", "postgres"},
    description=(
        f"CDRs from Kafka topic `{CDR_TOPIC}` (envelope `cdr.record`, one record per payload), "
        "appended with COPY to `raw.cdr_records` in micro-batches the `cdr_events_sensor` "
        "requests with explicit offset ranges. Rows, rejects and the committed offsets "
        "(`raw._stream_offsets`) move in one transaction, so a re-run or a replay inserts "
        "nothing twice. Materialized by hand, it catches up to the topic's end."
    ),
    metadata={"table": "raw.cdr_records", "topic": CDR_TOPIC},
    # unpartitioned, but runs over a range of days (the CLI, `make run`) include it
    backfill_policy=BackfillPolicy.single_run(),
)
def cdr_events(
    context: AssetExecutionContext,
    config: CdrStreamConfig,
    warehouse: WarehouseResource,
    events: EventBusResource,
) -> MaterializeResult:
    servers = events.servers()
    with warehouse.connect() as conn:
        ranges = {int(p): (r[0], r[1]) for p, r in config.ranges.items()}
        if not ranges:
            try:
                first, end = partition_offsets(servers, CDR_TOPIC)
            except EventBusError as exc:
                # a whole-graph run without Kafka still builds everything downstream
                context.log.warning(f"nothing to catch up from {CDR_TOPIC}: {exc}")
                return MaterializeResult(
                    metadata={"events": MetadataValue.int(0), "kafka": MetadataValue.text(str(exc))}
                )
            done = committed_offsets(conn)
            ranges = {p: (done.get(p, first[p]), end[p]) for p in end}
        context.log.info(
            f"loading {CDR_TOPIC} "
            + ", ".join(f"[{p}] {s}..{e - 1}" for p, (s, e) in sorted(ranges.items()) if e > s)
        )
        load = load_cdr_ranges(conn, servers, ranges, log=context.log.info)
        audit = [
            envelope(
                "batch.loaded",
                "raw",
                {
                    "batch_id": p.batch_id,
                    "source": "cdr",
                    "entity": "records",
                    "topic": CDR_TOPIC,
                    "partition": p.partition,
                    "offsets": [p.first, p.end - 1],
                    "rows_in": p.events,
                    "rows_loaded": p.loaded,
                    "rows_rejected": p.rejected,
                    "run_id": context.run.run_id,
                },
                event_id=f"loaded-{p.batch_id}",
            )
            for p in load.partitions
            if p.events
        ]
        events.emit(conn, "audit-logs", audit, context.log.info)
        committed = committed_offsets(conn)
    return MaterializeResult(
        metadata={
            "events": MetadataValue.int(load.events),
            "rows_loaded": MetadataValue.int(load.loaded),
            "rows_rejected": MetadataValue.int(load.rejected),
            "already_loaded": MetadataValue.int(load.skipped),
            "seconds": MetadataValue.float(round(load.seconds, 3)),
            "events_per_second": MetadataValue.float(
                round(load.events / load.seconds, 1) if load.seconds else 0.0
            ),
            "partitions": MetadataValue.md(_partitions_table(load)),
            "rejects_by_rule": MetadataValue.json(load.rejects_by_rule()),
            "committed_offsets": MetadataValue.json({str(p): o for p, o in committed.items()}),
        }
    )
