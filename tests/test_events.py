"""Kafka for real: the embedded broker `make test` starts, topics, the quality-events outbox."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdp.cli import main
from sdp.events import TOPICS, EventBusError, envelope, publish, read_topic
from sdp.quality.outbox import TOPIC, publish_quality_events
from sdp.quality.store import record_event
from sdp.runtime.kafka import EmbeddedKafka, KafkaError, resolve_jars
from sdp.runtime.services import kafka_bootstrap_servers
from sdp.settings import load_settings


@pytest.fixture(scope="session")
def servers() -> str:
    servers = kafka_bootstrap_servers(load_settings())
    try:
        from sdp.events import broker_reachable

        broker_reachable(servers)
    except EventBusError as exc:
        pytest.fail(f"the tests need Kafka (make test starts it with sdp up): {exc}")
    return servers


def test_sdp_kafka_topics_creates_the_nine_topics_once(servers):
    runner = CliRunner()
    first = runner.invoke(main, ["kafka", "topics", "--json"])
    again = runner.invoke(main, ["kafka", "topics", "--json"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    topics = json.loads(again.output)["topics"]
    assert topics == {name: {"partitions": 3} for name in TOPICS}
    assert json.loads(first.output) == json.loads(again.output)


def test_produce_and_consume_round_trip_through_the_cli(servers):
    runner = CliRunner()
    produced = runner.invoke(
        main, ["kafka", "produce", "metrics", "--type", "probe"], input='{"n": 1}\n{"n": 2}\n'
    )
    assert produced.exit_code == 0, produced.output
    consumed = runner.invoke(main, ["kafka", "consume", "metrics", "--last", "1000"])
    events = [json.loads(line) for line in consumed.output.splitlines()]
    probes = [e for e in events if e["event_type"] == "probe"]
    assert [e["payload"] for e in probes[-2:]] == [{"n": 1}, {"n": 2}]
    assert set(probes[-1]) == {
        "event_id",
        "event_type",
        "occurred_at",
        "source",
        "schema_version",
        "payload",
    }


def test_a_line_that_is_not_json_is_refused_with_its_number(servers):
    result = CliRunner().invoke(main, ["kafka", "produce", "metrics"], input='{"n": 1}\nnope\n')
    assert result.exit_code != 0 and "stdin line 2: not JSON" in result.output


def test_quality_events_reach_their_topic_exactly_once(conn, servers):
    ids = [record_event(conn, "anomaly", "crm.customers", None, {"n": n}) for n in range(3)]
    assert publish_quality_events(conn, servers) == 3
    assert publish_quality_events(conn, servers) == 0  # already published
    on_topic = {e["event_id"]: e for e in read_topic(servers, TOPIC)}
    for event_id in ids:
        event = on_topic[f"quality-{event_id}"]
        assert event["source"] == "quality" and event["payload"]["dataset"] == "crm.customers"


def test_a_broker_that_is_down_leaves_quality_events_waiting(conn):
    record_event(conn, "check_fail", "raw.cdr_records", None, {"check": "x"})
    with pytest.raises(EventBusError, match=r"127\.0\.0\.1:1"):
        publish_quality_events(conn, "127.0.0.1:1")
    waiting = conn.execute("select count(*) from quality.events where published_at is null")
    assert waiting.fetchone()[0] == 1


def test_events_survive_a_broker_restart_and_sigterm_still_stops_it(tmp_path):
    settings = load_settings()
    if not settings.embedded_kafka:
        pytest.skip("KAFKA_BOOTSTRAP_SERVERS names an external cluster")
    broker = EmbeddedKafka(settings)
    event = envelope("restart-probe", "test", {"at": str(tmp_path)})
    publish(broker.bootstrap_servers, "audit-logs", [event])
    broker.stop()
    assert not broker.running()
    ignoring = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as a Dagster process does
    try:
        broker.start()
    finally:
        signal.signal(signal.SIGTERM, ignoring)
    ids = {e["event_id"] for e in read_topic(broker.bootstrap_servers, "audit-logs")}
    assert event["event_id"] in ids
    status = Path(f"/proc/{broker.pid()}/status").read_text()
    ignored = int(status.split("SigIgn:")[1].split()[0], 16)
    assert not ignored & (1 << (signal.SIGTERM - 1)), "sdp down could not stop this broker"


def test_a_damaged_jar_is_refused_and_fetched_again(tmp_path):
    cache = load_settings().home / "kafka" / "jars"
    copy = tmp_path / "jars"
    shutil.copytree(cache / "repository", copy / "repository")
    jar = next(Path(copy / "repository").rglob("kafka-clients-*.jar"))
    jar.write_bytes(jar.read_bytes() + b"tampered")
    with pytest.raises(KafkaError, match=r"kafka-clients-.*sha1 .* differs from the published"):
        resolve_jars(copy)
    assert not jar.exists()
    assert jar in resolve_jars(copy)  # downloaded again, and now verified
