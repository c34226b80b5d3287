"""Kafka goals, measured against the real broker in the same run.

1. Throughput: the CDR stream loader (fetch, envelope and contract checks, COPY, rejects,
   offsets committed with the rows) against a bare kafka-python consume loop reading the same
   topic. Goal: the loader keeps at least 0.8 of the bare loop's events per second.
2. Latency: from a `batch.landed` event on `landing-events` to its run starting, with the real
   Dagster daemon evaluating `landing_events_sensor` (its own instance and warehouse database,
   so nothing else queues in front). Goal: p95 at most 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from sdp.db import connect, scratch_database
from sdp.events import envelope, partition_offsets, range_reader, send
from sdp.ingest.landing_events import publish_landed
from sdp.ingest.stream import (
    CDR_EVENT_TYPE,
    CDR_TOPIC,
    OFFSETS_TABLE,
    load_cdr_ranges,
)
from sdp.landing import land_file
from sdp.runtime.services import kafka_bootstrap_servers, service_env, warehouse_url
from sdp.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
ALARMS = (
    b"alarm_id,network_element_id,severity,alarm_type,raised_at\n"
    b"AL1,MSC-01,critical,LINK_DOWN,2026-10-27T07:55:00Z\n"
)


def create_topic(servers: str, name: str) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        admin.create_topics([NewTopic(name, 3, 1)])
    finally:
        admin.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if len(partition_offsets(servers, name)[1]) == 3:
                return
        except Exception:  # metadata of a fresh topic arrives a moment later
            pass
        time.sleep(0.2)


def delete_topic(servers: str, name: str) -> None:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        admin.delete_topics([name])
    finally:
        admin.close()


def produce_cdrs(servers: str, topic: str, events: int) -> None:
    day = date(2026, 10, 27)
    values = []
    for i in range(events):
        service = ("voice", "voice", "sms", "data")[i % 4]
        payload = {
            "cdr_id": f"K{i:012d}",
            "msisdn": f"+4477009{i % 100000:05d}",
            "called_number": None if service == "data" else f"+4477008{i % 99999:05d}",
            "event_time": f"{day}T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "service_type": service,
            "duration_s": 1 + i % 900 if service == "voice" else None,
            "volume_mb": round((i % 2000) / 10, 3) if service == "data" else None,
            "call_result": "answered",
            "cell_id": f"CELL-{i % 2000:04d}",
            "network_element_id": f"MSC-{i % 20:02d}",
        }
        event = envelope(CDR_EVENT_TYPE, "mediation", payload, event_id=f"bench-{i}")
        values.append((str(i).encode(), json.dumps(event).encode()))
    send(servers, topic, values)


def bare_consume(servers: str, topic: str, end: dict[int, int]) -> float:
    from kafka import TopicPartition

    started = time.perf_counter()
    consumer = range_reader(servers)  # the loader's client settings: only the loop differs
    partitions = [TopicPartition(topic, p) for p in end]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    seen = 0
    while any(consumer.position(tp) < end[tp.partition] for tp in partitions):
        for records in consumer.poll(timeout_ms=500).values():
            seen += len(records)
    consumer.close()
    assert seen == sum(end.values()), seen
    return time.perf_counter() - started


def stream_load(server_url: str, servers: str, topic: str, end: dict[int, int]) -> float:
    with scratch_database(server_url, "bench") as url, connect(url) as conn:
        started = time.perf_counter()
        load = load_cdr_ranges(conn, servers, {p: (0, e) for p, e in end.items()}, topic=topic)
        seconds = time.perf_counter() - started
        assert load.loaded == sum(end.values()), (load.loaded, load.rejected)
    return seconds


def throughput(events: int, repeat: int) -> None:
    settings = load_settings()
    servers = kafka_bootstrap_servers(settings)
    topic = f"bench-cdr-{uuid.uuid4().hex[:8]}"
    create_topic(servers, topic)
    try:
        t0 = time.perf_counter()
        produce_cdrs(servers, topic, events)
        print(f"produced {events:,} CDR events in {time.perf_counter() - t0:.1f}s")
        _, end = partition_offsets(servers, topic)
        bare, loader = [], []
        for _ in range(repeat):
            bare.append(bare_consume(servers, topic, end))
            loader.append(stream_load(warehouse_url(settings), servers, topic, end))
    finally:
        delete_topic(servers, topic)
    bare_rate = events / statistics.median(bare)
    loader_rate = events / statistics.median(loader)
    print(f"bare kafka-python consume: {bare_rate:>10,.0f} events/s  (median of {repeat})")
    print(f"Kafka -> raw.cdr_records:  {loader_rate:>10,.0f} events/s  (median of {repeat})")
    print(f"ratio:                     {loader_rate / bare_rate:>10.2f}  (goal >= 0.80)")


def _runs_for(instance, batch_id: str):
    from dagster import RunsFilter

    return instance.get_run_records(filters=RunsFilter(tags={"sdp/batch_id": batch_id}))


def latency(samples: int, gap: float) -> None:
    from dagster import DagsterInstance

    settings = load_settings()
    servers = kafka_bootstrap_servers(settings)
    day = date.today() - timedelta(days=1)
    with (
        scratch_database(warehouse_url(settings), "bench") as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        home, landing = Path(tmp) / "dagster", Path(tmp) / "landing"
        home.mkdir()
        (home / "dagster.yaml").write_text(
            "run_coordinator:\n  module: dagster.core.run_coordinator\n"
            "  class: QueuedRunCoordinator\n"
            "  config: {max_concurrent_runs: 2, dequeue_interval_seconds: 1}\n"
            "telemetry: {enabled: false}\n"
        )
        with connect(url) as conn:  # the stream is consumed up to now: no CDR runs queue up
            for p, offset in partition_offsets(servers, CDR_TOPIC)[1].items():
                conn.execute(
                    f"insert into raw.{OFFSETS_TABLE} (topic, partition, next_offset, advanced)"
                    " values (%s, %s, %s, true)",
                    (CDR_TOPIC, p, offset),
                )
        env = {
            **os.environ,
            **service_env(settings),
            "SDP_WAREHOUSE_URL": url,
            "SDP_LANDING": str(landing),
            "DAGSTER_HOME": str(home),
        }
        daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", "workspace.yaml"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            instance = DagsterInstance.from_config(str(home))
            measured = _measure(instance, servers, landing, day, samples, gap)
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
    created = sorted(c for c, _ in measured)
    started = sorted(s for _, s in measured)
    print(
        f"landing event -> run created: p50 {_pct(created, 50):.1f}s p95 {_pct(created, 95):.1f}s"
    )
    print(
        f"landing event -> run started: p50 {_pct(started, 50):.1f}s "
        f"p95 {_pct(started, 95):.1f}s  (goal p95 <= 15 s; {len(started)} batches)"
    )


def _measure(instance, servers, landing, day, samples, gap) -> list[tuple[float, float]]:
    measured = []
    for i in range(samples + 1):  # the first one waits for the daemon to start: not counted
        batch = f"oss-alarms-bench-{uuid.uuid4().hex[:8]}"
        manifest = land_file(landing, "oss", "alarms", day, batch, ALARMS, 1)
        sent = time.time()
        publish_landed(servers, [manifest])
        deadline = time.monotonic() + (300 if i == 0 else 120)
        while time.monotonic() < deadline:
            records = _runs_for(instance, batch)
            if records and records[0].start_time:
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"no run started for {batch}")
        record = records[0]
        if i:
            measured.append((record.create_timestamp.timestamp() - sent, record.start_time - sent))
        time.sleep(gap)
    return measured


def _pct(values: list[float], pct: int) -> float:
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20, help="landing events timed")
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between landings")
    args = parser.parse_args()
    throughput(args.events, args.repeat)
    latency(args.samples, args.gap)


if __name__ == "__main__":
    main()
