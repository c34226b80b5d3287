"""Sensors fed by the real Kafka broker: landing events, the CDR stream, exactly once in effect."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, build_sensor_context, materialize

from orchestration.assets.streaming import cdr_events
from orchestration.definitions import defs
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from orchestration.sensors import cdr_events_sensor, cdr_micro_batches, landing_events_sensor
from sdp.events import envelope, partition_offsets, publish, send
from sdp.ingest.landing_events import LANDING_TOPIC, landed_event
from sdp.ingest.stream import CDR_EVENT_TYPE, CDR_TOPIC, committed_offsets
from sdp.landing import land_file
from sdp.runtime.kafka import EmbeddedKafka
from sdp.settings import load_settings

DAY = (date.today() - timedelta(days=1)).isoformat()
ALARMS = (
    b"alarm_id,network_element_id,severity,alarm_type,raised_at\n"
    b"AL1,MSC-01,critical,LINK_DOWN,2026-10-27T07:55:00Z\n"
)


def resources(db_url: str, landing: Path | None = None) -> dict:
    return {
        "warehouse": WarehouseResource(url=db_url),
        "landing": LandingResource(path=str(landing or "/nonexistent")),
        "events": EventBusResource(),
    }


def end_cursor(topic: str) -> str:
    """A cursor at the topic's current end: what other tests published is not this test's."""
    _, end = partition_offsets(EventBusResource().servers(), topic)
    return json.dumps({str(p): o for p, o in end.items()})


def cdr(n: int, run: str) -> dict:
    return envelope(
        CDR_EVENT_TYPE,
        "mediation",
        {
            "cdr_id": f"{run}-{n}",
            "msisdn": "+447700900001",
            "event_time": f"{DAY}T08:00:00Z",
            "service_type": "voice",
            "duration_s": 30 + n,
            "call_result": "answered",
            "network_element_id": "MSC-01",
        },
    )


def tick(sensor, cursor: str, db_url: str, landing: Path | None = None):
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(
            instance=instance,
            cursor=cursor,
            resources=resources(db_url, landing),
            definitions=defs,
        )
        return sensor(context)


def run_request(db_url: str, request) -> bool:
    result = materialize(
        [cdr_events],
        resources=resources(db_url),
        run_config=request.run_config,
        raise_on_error=False,
    )
    return result.success


def stream_rows(conn, run: str) -> tuple[int, int]:
    return conn.execute(
        "select count(*), count(distinct cdr_id) from raw.cdr_records where cdr_id like %s",
        (f"{run}-%",),
    ).fetchone()


def test_landing_events_request_one_run_per_batch_keyed_by_batch_id(landing, db_url, conn):
    cursor = end_cursor(LANDING_TOPIC)
    day = date.fromisoformat(DAY)
    first, second = (
        land_file(landing, "oss", "alarms", day, f"oss-alarms-{uuid.uuid4().hex[:8]}", ALARMS, 1)
        for _ in range(2)
    )
    ghost = {**landed_event(first), "event_id": "ghost"}
    ghost["payload"] = {**ghost["payload"], "batch_id": "oss-alarms-never-landed"}
    servers = EventBusResource().servers()
    publish(servers, LANDING_TOPIC, [landed_event(first), landed_event(second)])
    publish(servers, LANDING_TOPIC, [landed_event(first), ghost])  # a retry, and a lie
    send(servers, LANDING_TOPIC, [(b"k", b"{not json")])

    result = tick(landing_events_sensor, cursor, db_url, landing)
    requests = {r.run_key: r for r in result.run_requests}
    assert set(requests) == {first.batch_id, second.batch_id}
    request = requests[first.batch_id]
    assert request.partition_key == DAY
    assert request.asset_selection == [AssetKey(["raw", "oss_alarms"])]
    assert request.tags["sdp/batch_id"] == first.batch_id
    _, end = partition_offsets(servers, LANDING_TOPIC)
    assert json.loads(result.cursor) == {str(p): o for p, o in end.items()}

    rejects = dict(conn.execute("select rule, reason from raw._rejects").fetchall())
    assert "not in the landing folder" in rejects["bad_event"]
    assert rejects["bad_json"].startswith("not JSON")

    again = tick(landing_events_sensor, result.cursor, db_url, landing)
    assert again.run_requests == [] and again.cursor == result.cursor
    assert conn.execute("select count(*) from raw._rejects").fetchone()[0] == 2


def test_cdr_stream_loads_every_event_once_however_often_it_runs(db_url, conn):
    run = uuid.uuid4().hex[:8]
    cursor = end_cursor(CDR_TOPIC)
    publish(EventBusResource().servers(), CDR_TOPIC, [cdr(n, run) for n in range(300)])

    result = tick(cdr_events_sensor, cursor, db_url)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.asset_selection == [AssetKey(["raw", "cdr_events"])]
    assert all(run_request(db_url, r) for r in result.run_requests)
    assert stream_rows(conn, run) == (300, 300)

    assert run_request(db_url, request)  # the same micro-batch again
    assert materialize([cdr_events], resources=resources(db_url)).success  # catch up by hand
    assert stream_rows(conn, run) == (300, 300)
    assert tick(cdr_events_sensor, result.cursor, db_url).run_requests == []
    _, end = partition_offsets(EventBusResource().servers(), CDR_TOPIC)
    assert committed_offsets(conn) == end
    loads = conn.execute(
        "select count(*), sum(rows_loaded) from raw._loads where method = 'stream'"
    ).fetchone()
    assert loads[1] == 300 and loads[0] <= 3  # one batch per partition that held events


def test_malformed_cdr_events_land_in_rejects_and_the_stream_goes_on(db_url, conn):
    run = uuid.uuid4().hex[:8]
    cursor = end_cursor(CDR_TOPIC)
    no_id = cdr(1, run)
    del no_id["event_id"]
    wrong_version = {**cdr(2, run), "schema_version": "1"}
    bad_duration = cdr(3, run)
    bad_duration["payload"]["duration_s"] = "thirty"
    no_msisdn = cdr(4, run)
    del no_msisdn["payload"]["msisdn"]
    unknown = {**cdr(5, run), "event_type": "cdr.deleted"}
    nul = cdr(7, run)
    nul["payload"]["cell_id"] = "CELL\x00-1"
    records = [
        cdr(0, run),
        no_id,
        wrong_version,
        bad_duration,
        no_msisdn,
        unknown,
        nul,
        cdr(6, run),
    ]
    values = [json.dumps(r).encode() for r in records] + [b"\xff{not json"]
    # one partition (same key), so the order on the topic is the order sent
    send(EventBusResource().servers(), CDR_TOPIC, [(b"one", v) for v in values])

    result = tick(cdr_events_sensor, cursor, db_url)
    assert all(run_request(db_url, r) for r in result.run_requests)
    assert stream_rows(conn, run) == (2, 2)
    rejects = conn.execute(
        "select rule, column_name, reason, file from raw._rejects order by line"
    ).fetchall()
    assert [(rule, column) for rule, column, _, _ in rejects] == [
        ("bad_envelope", "event_id"),
        ("bad_envelope", "schema_version"),
        ("invalid_value", "duration_s"),
        ("missing_required", "msisdn"),
        ("unknown_event_type", "event_type"),
        ("invalid_value", None),
        ("bad_json", None),
    ]
    reasons = [reason for _, _, reason, _ in rejects]
    assert reasons[1] == "schema_version must be int, not str"
    assert "'thirty' is not a valid integer" in reasons[2]
    assert all(file.startswith(f"kafka:{CDR_TOPIC}/") for _, _, _, file in rejects)
    loaded = conn.execute(
        "select sum(rows_in), sum(rows_loaded), sum(rows_rejected) from raw._loads"
    ).fetchone()
    assert tuple(loaded) == (9, 2, 7)  # every event accounted for


def test_a_broker_restart_mid_stream_loses_nothing_and_duplicates_nothing(db_url, conn):
    settings = load_settings()
    if not settings.embedded_kafka:
        pytest.skip("KAFKA_BOOTSTRAP_SERVERS names an external cluster")
    run = uuid.uuid4().hex[:8]
    servers = EventBusResource().servers()
    cursor = end_cursor(CDR_TOPIC)
    publish(servers, CDR_TOPIC, [cdr(n, run) for n in range(200)])
    first = tick(cdr_events_sensor, cursor, db_url)

    broker = EmbeddedKafka(settings)
    broker.stop()
    try:
        assert not any(run_request(db_url, r) for r in first.run_requests)  # Kafka is down
    finally:
        broker.start()
    assert stream_rows(conn, run) == (0, 0)

    publish(servers, CDR_TOPIC, [cdr(n, run) for n in range(200, 500)])
    second = tick(cdr_events_sensor, first.cursor, db_url)
    # the new ranges start after the failed ones; the run reaches back to the committed offsets
    assert all(run_request(db_url, r) for r in second.run_requests)
    assert stream_rows(conn, run) == (500, 500)
    assert all(run_request(db_url, r) for r in first.run_requests)  # the failed run, retried
    assert stream_rows(conn, run) == (500, 500)


def test_a_backlog_is_split_into_bounded_micro_batches():
    batches = cdr_micro_batches({0: 0, 1: 50, 2: 7}, {0: 250, 1: 50, 2: 8}, limit=100)
    assert batches == [{0: (0, 100), 2: (7, 8)}, {0: (100, 200)}, {0: (200, 250)}]


def test_sdp_kafka_announce_publishes_one_landing_event_per_batch(landing, db_url, monkeypatch):
    from click.testing import CliRunner

    from sdp.cli import main

    cursor = end_cursor(LANDING_TOPIC)
    day = date.fromisoformat(DAY)
    batch = f"oss-alarms-{uuid.uuid4().hex[:8]}"
    land_file(landing, "oss", "alarms", day, batch, ALARMS, 1)
    monkeypatch.setenv("SDP_LANDING", str(landing))
    result = CliRunner().invoke(main, ["kafka", "announce"])
    assert result.exit_code == 0 and "published 1 landing events" in result.output, result.output
    requests = tick(landing_events_sensor, cursor, db_url, landing).run_requests
    assert [r.run_key for r in requests] == [batch]


def test_catching_up_without_kafka_builds_nothing_and_fails_nothing(db_url):
    unreachable = {**resources(db_url), "events": EventBusResource(bootstrap_servers="127.0.0.1:1")}
    result = materialize([cdr_events], resources=unreachable)
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["events"].value == 0


def test_record_batch_crcs_are_checked_by_the_c_extension():
    """kafka-python falls back to a pure-Python CRC-32C, the consume loop's largest cost, when
    the `crc32c` extension is missing: the install must carry it."""
    import crc32c
    from kafka.record import util

    assert util.crc32c_c is crc32c.crc32c
    assert util.calc_crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
