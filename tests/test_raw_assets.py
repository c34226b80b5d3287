"""The raw group through Dagster, in process: materializations, metadata, the landing sensor."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, build_sensor_context, materialize

from orchestration.assets.raw import raw_assets
from orchestration.definitions import defs
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from orchestration.sensors import landing_folder_sensor
from sdp.landing import land_file

DAY = "2026-10-27"
CDRS = (
    b"cdr_id,msisdn,event_time,service_type,duration_s,call_result,network_element_id\n"
    b"X1,+447700900001,2026-10-27T08:00:00Z,voice,30,answered,MSC-01\n"
    b"X2,+447700900002,2026-10-27T09:00:00Z,sms,,answered,SMSC-01\n"
    b"X3,+447700900003,2026-10-27T09:30:00Z,voice,12,hung_up,MSC-01\n"
)
ALARMS_KEY = AssetKey(["raw", "oss_alarms"])
ALARMS = (
    b"alarm_id,network_element_id,severity,alarm_type,raised_at\n"
    b"AL1,MSC-01,critical,LINK_DOWN,2026-10-27T07:55:00Z\n"
)


@pytest.fixture
def landed(landing: Path) -> Path:
    day = date.fromisoformat(DAY)
    land_file(landing, "cdr", "records", day, "cdr-records-20261027-msc-001", CDRS, 3)
    land_file(landing, "oss", "alarms", day, "oss-alarms-20261027-001", ALARMS, 1)
    return landing


def resources(db_url: str, landing: Path) -> dict:
    return {
        "warehouse": WarehouseResource(url=db_url),
        "landing": LandingResource(path=str(landing)),
        "events": EventBusResource(),
    }


def test_every_contract_entity_is_a_raw_asset_with_description_kind_and_group():
    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    raw = [k for k in specs if k.path[0] == "raw" and k.path[1] not in ("_loads", "cdr_events")]
    assert len(raw) == 11
    assert AssetKey(["raw", "cdr_records"]) in specs
    for key in raw:
        spec = specs[key]
        assert spec.group_name == "raw" and "postgres" in spec.kinds and spec.description


def test_raw_assets_materialize_in_process_with_load_metadata(landed, db_url, conn):
    result = materialize(raw_assets(), partition_key=DAY, resources=resources(db_url, landed))
    assert result.success
    by_asset = {
        m.asset_key.path[-1]: m.metadata
        for m in result.get_asset_materialization_events()
        for m in [m.materialization]
    }
    cdr = by_asset["cdr_records"]
    assert cdr["rows_loaded"].value == 2 and cdr["rows_rejected"].value == 1
    assert cdr["rows_per_second"].value > 0 and cdr["bytes"].value == len(CDRS)
    assert "| cdr-records-20261027-msc-001 |" in cdr["batch_outcomes"].value
    assert by_asset["oss_alarms"]["rows_loaded"].value == 1
    assert by_asset["crm_customers"]["rows_loaded"].value == 0
    reason = conn.execute("select reason from raw._rejects").fetchone()[0]
    assert "hung_up" in reason and "call_result" in reason


def test_a_batch_rejected_whole_fails_the_asset_loudly(landing, db_url):
    day = date.fromisoformat(DAY)
    manifest = land_file(landing, "oss", "alarms", day, "oss-alarms-bad", ALARMS, 1)
    (landing / "oss/alarms/dt=2026-10-27" / manifest.file).write_bytes(ALARMS + b"AL2,x\n")
    result = materialize(
        raw_assets(),
        selection=[ALARMS_KEY],
        partition_key=DAY,
        resources=resources(db_url, landing),
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "oss-alarms-bad.csv: sha256 is" in failure.message


def test_landing_sensor_requests_one_run_per_new_batch_keyed_by_batch_id(landed, db_url):
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(
            instance=instance, resources=resources(db_url, landed), definitions=defs
        )
        requests = list(landing_folder_sensor(context))
    keys = {r.run_key: r for r in requests}
    assert set(keys) == {"cdr-records-20261027-msc-001", "oss-alarms-20261027-001"}
    request = keys["cdr-records-20261027-msc-001"]
    assert request.partition_key == DAY
    assert request.asset_selection == [AssetKey(["raw", "cdr_records"])]


def test_landing_sensor_skips_batches_already_loaded(landed, db_url):
    materialize(raw_assets(), partition_key=DAY, resources=resources(db_url, landed))
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(
            instance=instance, resources=resources(db_url, landed), definitions=defs
        )
        evaluation = list(landing_folder_sensor(context))
    assert [type(e).__name__ for e in evaluation] == ["SkipReason"]


def day_metadata(instance: DagsterInstance, key: AssetKey) -> dict[str, dict]:
    """The newest materialization of each partition of `key`, as plain metadata values."""
    newest: dict[str, dict] = {}
    for record in instance.fetch_materializations(key, limit=100).records:  # newest first
        meta = record.asset_materialization.metadata
        newest.setdefault(record.partition_key, {k: v.value for k, v in meta.items()})
    return newest


def test_a_ranged_run_reports_each_days_own_figures_and_a_rerun_says_unchanged(landing, db_url):
    days = ("2026-10-27", "2026-10-28")
    for n, day in enumerate(days, 1):
        rows = b"".join(
            f"AL{day}-{i},MSC-01,minor,LINK_DOWN,{day}T07:55:00Z\n".encode() for i in range(n)
        )
        land_file(
            landing,
            "oss",
            "alarms",
            date.fromisoformat(day),
            f"oss-alarms-{day}",
            ALARMS.splitlines(keepends=True)[0] + rows,
            n,
        )
    key = ALARMS_KEY
    tags = {
        "dagster/asset_partition_range_start": days[0],
        "dagster/asset_partition_range_end": days[-1],
    }
    with DagsterInstance.ephemeral() as instance:
        for _ in range(2):
            run = materialize(
                raw_assets(),
                selection=[key],
                resources=resources(db_url, landing),
                tags=tags,
                instance=instance,
            )
            assert run.success
            if _ == 0:
                first = day_metadata(instance, key)
        again = day_metadata(instance, key)
    assert first["2026-10-27"]["rows_loaded"] == 1 and first["2026-10-28"]["rows_loaded"] == 2
    assert first["2026-10-28"]["batches"] == 1 and first["2026-10-28"]["status"] == "loaded"
    assert first["2026-10-27"]["bytes"] < first["2026-10-28"]["bytes"]
    assert again["2026-10-28"]["status"] == "unchanged"
    assert again["2026-10-28"]["rows_loaded"] == 2 and again["2026-10-28"]["batches"] == 1
    assert again["2026-10-28"]["rows_loaded_this_run"] == 0
    assert "(unchanged)" in again["2026-10-28"]["batch_outcomes"]
