"""Sensors that start runs when data lands."""

from datetime import date, timedelta

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunConfig,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from orchestration.assets.raw import RawLoadConfig, raw_asset_key
from orchestration.partitions import daily_partitions
from orchestration.resources import LandingResource, WarehouseResource
from sdp.contracts import load_contract
from sdp.ingest.schema import LOADS_TABLE, SCHEMA
from sdp.landing import ManifestError, iter_manifests, read_manifest


def _loaded_batches(warehouse: WarehouseResource) -> dict[str, str]:
    """batch_id -> sha256 of what the warehouse already holds."""
    with warehouse.connect() as conn:
        exists = conn.execute("select to_regclass(%s)", (f"{SCHEMA}.{LOADS_TABLE}",)).fetchone()
        if exists[0] is None:
            return {}
        rows = conn.execute(f"select batch_id, sha256 from {SCHEMA}.{LOADS_TABLE}").fetchall()
    return dict(rows)


@sensor(
    name="landing_folder_sensor",
    description=(
        "Watches the landing folder for new manifests (Kafka-less landing): one run per new "
        "batch with run_key = batch_id, loading just that batch into its raw asset's day. A "
        "batch re-landed with other content runs again under batch_id@sha."
    ),
    asset_selection=AssetSelection.groups("raw"),
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
)
def landing_folder_sensor(
    context: SensorEvaluationContext, warehouse: WarehouseResource, landing: LandingResource
):
    contract = load_contract()
    loaded = _loaded_batches(warehouse)
    first_day = daily_partitions.start.date()
    last_day = date.today() + timedelta(days=1)
    requests = 0
    for path in iter_manifests(landing.root()):
        try:
            manifest = read_manifest(path)
            entity = contract.entity(manifest.source, manifest.entity)
        except (ManifestError, KeyError) as exc:
            context.log.warning(f"ignoring {path}: {exc}")
            continue
        if loaded.get(manifest.batch_id) == manifest.sha256:
            continue
        day = date.fromisoformat(manifest.partition_date)
        if not first_day <= day <= last_day:
            context.log.warning(
                f"{manifest.batch_id}: partition {day} is outside the daily partitions "
                f"({first_day} onwards; set SDP_PARTITIONS_START)"
            )
            continue
        key = raw_asset_key(entity)
        run_key = manifest.batch_id
        if manifest.batch_id in loaded:
            run_key = f"{manifest.batch_id}@{manifest.sha256[:12]}"
        requests += 1
        yield RunRequest(
            run_key=run_key,
            asset_selection=[key],
            partition_key=manifest.partition_date,
            run_config=RunConfig(
                ops={key.to_python_identifier(): RawLoadConfig(batch_ids=[manifest.batch_id])}
            ),
            tags={"sdp/batch_id": manifest.batch_id, "sdp/source": manifest.source},
        )
    if not requests:
        yield SkipReason("no new landed batch")
