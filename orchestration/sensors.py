"""Sensors that start runs when data lands: on Kafka (landing and CDR events) or in a folder."""

import json

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunConfig,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration.assets.raw import RAW_STEP, RawLoadConfig, raw_asset_key
from orchestration.assets.streaming import CDR_STREAM_KEY, CdrStreamConfig
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from sdp.contracts import load_contract
from sdp.events import EventBusError, partition_offsets
from sdp.ingest.landing_events import poll_landing_events, record_bad_events
from sdp.ingest.schema import LOADS_TABLE, SCHEMA
from sdp.ingest.stream import CDR_TOPIC, committed_offsets
from sdp.landing import Manifest, ManifestError, iter_manifests, read_manifest
from sdp.outbox import flush, pending
from sdp.partitions import parse_partition_day
from sdp.settings import load_settings

# a micro-batch holds at most this many events per partition; a backlog becomes several runs
MAX_EVENTS_PER_RUN = 100_000
MAX_RUNS_PER_TICK = 6


def _loaded_batches(warehouse: WarehouseResource) -> dict[str, str]:
    """batch_id -> sha256 of what the warehouse already holds."""
    with warehouse.connect() as conn:
        rows = conn.execute(f"select batch_id, sha256 from {SCHEMA}.{LOADS_TABLE}").fetchall()
    return dict(rows)


def _batch_run(
    context: SensorEvaluationContext, manifest: Manifest, loaded: dict[str, str]
) -> RunRequest | None:
    """The run that loads one landed batch into its raw asset's day, or None when there is
    nothing to do. A batch re-landed with other content runs again under batch_id@sha."""
    contract = load_contract()
    try:
        entity = contract.entity(manifest.source, manifest.entity)
    except KeyError as exc:
        context.log.warning(f"ignoring {manifest.batch_id}: {exc}")
        return None
    if loaded.get(manifest.batch_id) == manifest.sha256:
        return None
    try:
        parse_partition_day(manifest.partition_date, load_settings())
    except ValueError as exc:
        context.log.warning(f"{manifest.batch_id}: {exc}")
        return None
    key = raw_asset_key(entity)
    run_key = manifest.batch_id
    if manifest.batch_id in loaded:
        run_key = f"{manifest.batch_id}@{manifest.sha256[:12]}"
    return RunRequest(
        run_key=run_key,
        asset_selection=[key],
        partition_key=manifest.partition_date,
        run_config=RunConfig(ops={RAW_STEP: RawLoadConfig(batch_ids=[manifest.batch_id])}),
        tags={"sdp/batch_id": manifest.batch_id, "sdp/source": manifest.source},
    )


@sensor(
    name="landing_events_sensor",
    description=(
        "Reads `landing-events` from the offsets in its cursor: one run per landed batch for "
        "its raw asset's day, run_key = batch_id. Events that announce no trustworthy batch go "
        "to `raw._rejects` with their reason; the cursor moves past them."
    ),
    asset_selection=AssetSelection.groups("raw") - AssetSelection.assets(CDR_STREAM_KEY),
    minimum_interval_seconds=3,
    default_status=DefaultSensorStatus.RUNNING,
)
def landing_events_sensor(
    context: SensorEvaluationContext,
    warehouse: WarehouseResource,
    landing: LandingResource,
    events: EventBusResource,
):
    cursor = {int(p): o for p, o in json.loads(context.cursor or "{}").items()}
    try:
        poll = poll_landing_events(events.servers(), cursor, landing.root())
    except EventBusError as exc:
        return SkipReason(f"landing-events unreadable: {exc}")
    if poll.bad:
        with warehouse.connect() as conn:
            record_bad_events(conn, poll.bad)
        for bad in poll.bad:
            context.log.warning(f"landing-events[{bad.partition}]@{bad.offset}: {bad.reason}")
    loaded = _loaded_batches(warehouse)
    # an event sent twice (a NiFi retry) is one batch: one run request per batch and content
    unique = {(m.batch_id, m.sha256): m for m in poll.manifests}
    requests = [r for m in unique.values() if (r := _batch_run(context, m, loaded)) is not None]
    return SensorResult(
        run_requests=requests,
        cursor=json.dumps({str(p): o for p, o in sorted(poll.cursor.items())}),
        skip_reason=None if requests else "no new landed batch on landing-events",
    )


def cdr_micro_batches(
    start: dict[int, int], end: dict[int, int], limit: int = MAX_EVENTS_PER_RUN
) -> list[dict[int, tuple[int, int]]]:
    """Split each partition's [start, end) into runs of at most `limit` events per partition."""
    batches: list[dict[int, tuple[int, int]]] = []
    position = dict(start)
    while len(batches) < MAX_RUNS_PER_TICK:
        ranges = {
            p: (position[p], min(end[p], position[p] + limit))
            for p in sorted(end)
            if end[p] > position[p]
        }
        if not ranges:
            break
        batches.append(ranges)
        position.update({p: r[1] for p, r in ranges.items()})
    return batches


@sensor(
    name="cdr_events_sensor",
    description=(
        "Watches `cdr-events` partitions' ends (a metadata request, never a poll) and requests "
        "micro-batch runs of `raw/cdr_events` with explicit offset ranges, at most "
        f"{MAX_EVENTS_PER_RUN:,} events per partition each. The cursor holds the next offset "
        "per partition; a fresh cursor starts from the offsets the warehouse has committed."
    ),
    asset_selection=AssetSelection.assets(CDR_STREAM_KEY),
    minimum_interval_seconds=10,
    default_status=DefaultSensorStatus.RUNNING,
)
def cdr_events_sensor(
    context: SensorEvaluationContext, warehouse: WarehouseResource, events: EventBusResource
):
    try:
        first, end = partition_offsets(events.servers(), CDR_TOPIC)
    except EventBusError as exc:
        return SkipReason(f"cdr-events unreadable: {exc}")
    if context.cursor:
        known = {int(p): o for p, o in json.loads(context.cursor).items()}
    else:
        with warehouse.connect() as conn:
            known = committed_offsets(conn)
    start = {p: max(known.get(p, first[p]), first[p]) for p in end}
    requests = []
    for ranges in cdr_micro_batches(start, end):
        spec = ",".join(f"{p}:{s}-{e}" for p, (s, e) in ranges.items())
        requests.append(
            RunRequest(
                run_key=f"{CDR_TOPIC}:{spec}",
                asset_selection=[CDR_STREAM_KEY],
                run_config=RunConfig(
                    ops={
                        CDR_STREAM_KEY.to_python_identifier(): CdrStreamConfig(
                            ranges={str(p): [s, e] for p, (s, e) in ranges.items()}
                        )
                    }
                ),
                tags={"sdp/topic": CDR_TOPIC, "sdp/offsets": spec},
            )
        )
        start.update({p: r[1] for p, r in ranges.items()})
    return SensorResult(
        run_requests=requests,
        cursor=json.dumps({str(p): o for p, o in sorted(start.items())}),
        skip_reason=None if requests else "no new CDR events",
    )


@sensor(
    name="event_outbox_sensor",
    description=(
        "Sends the events the stages recorded while Kafka was unreachable "
        "(`ops.event_outbox`), oldest first."
    ),
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
)
def event_outbox_sensor(
    context: SensorEvaluationContext, warehouse: WarehouseResource, events: EventBusResource
):
    with warehouse.connect() as conn:
        if not pending(conn):
            return SkipReason("the outbox is empty")
        try:
            result = flush(conn, events.servers())
        except EventBusError as exc:
            return SkipReason(f"Kafka still unreachable: {exc}")
    return SkipReason(f"sent {result.sent} waiting events; {result.pending} still pending")


@sensor(
    name="landing_folder_sensor",
    description=(
        "Watches the landing folder for new manifests, for Kafka-less landing (turn it on where "
        "no `landing-events` arrive): one run per new batch with run_key = batch_id, loading "
        "just that batch into its raw asset's day. A batch re-landed with other content runs "
        "again under batch_id@sha."
    ),
    asset_selection=AssetSelection.groups("raw") - AssetSelection.assets(CDR_STREAM_KEY),
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.STOPPED,
)
def landing_folder_sensor(
    context: SensorEvaluationContext, warehouse: WarehouseResource, landing: LandingResource
):
    loaded = _loaded_batches(warehouse)
    requests = 0
    for path in iter_manifests(landing.root()):
        try:
            manifest = read_manifest(path)
        except ManifestError as exc:
            context.log.warning(f"ignoring {path}: {exc}")
            continue
        request = _batch_run(context, manifest, loaded)
        if request is not None:
            requests += 1
            yield request
    if not requests:
        yield SkipReason("no new landed batch")
