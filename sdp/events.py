"""The platform's topics and the event envelope every stage publishes with.

Envelope (JSON): `{event_id, event_type, occurred_at, source, schema_version, payload}`; the
event id is the record key too, so a consumer can drop a redelivered event. Nine topics of three
partitions each; `landing-events` and `cdr-events` feed sensors, the stages publish to the rest.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

TOPICS = (
    "landing-events",
    "cdr-events",
    "alerts",
    "metrics",
    "quality-events",
    "reconciliation-events",
    "rca-events",
    "dbt-events",
    "audit-logs",
)
PARTITIONS = 3
SCHEMA_VERSION = 1


class EventBusError(RuntimeError):
    """Kafka could not be reached or refused a request; the message says which broker and why."""


def envelope(
    event_type: str,
    source: str,
    payload: dict,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> dict:
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "event_type": event_type,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "source": source,
        "schema_version": SCHEMA_VERSION,
        "payload": payload,
    }


def _admin(servers: str):
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        return KafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10_000)
    except KafkaError as exc:
        raise EventBusError(f"Kafka at {servers} is not reachable: {exc!r}") from exc


def broker_reachable(servers: str) -> None:
    _admin(servers).close()


def topic_partitions(servers: str, names: Iterable[str] = TOPICS) -> dict[str, int]:
    admin = _admin(servers)
    try:
        existing = set(admin.list_topics())
        wanted = [n for n in names if n in existing]
        described = admin.describe_topics(wanted) if wanted else []
        return {d["topic"]: len(d["partitions"]) for d in described}
    finally:
        admin.close()


def ensure_topics(servers: str, timeout: float = 30.0) -> dict[str, int]:
    """Create the platform's topics that are missing; returns each topic's partition count."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = _admin(servers)
    try:
        existing = set(admin.list_topics())
        for name in TOPICS:
            if name not in existing:
                # created meanwhile by another process: the same outcome
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics([NewTopic(name, PARTITIONS, 1)])
    finally:
        admin.close()
    deadline = time.monotonic() + timeout
    while True:  # metadata of fresh topics shows their partitions a moment later
        counts = topic_partitions(servers)
        if all(counts.get(n, 0) >= PARTITIONS for n in TOPICS) or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)


def publish(servers: str, topic: str, events: Iterable[dict]) -> int:
    """Send envelopes and wait until the broker has them all (acks from every replica)."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    try:
        producer = KafkaProducer(
            bootstrap_servers=servers,
            acks="all",
            linger_ms=5,
            key_serializer=str.encode,
            value_serializer=lambda v: json.dumps(v, default=str).encode(),
        )
    except KafkaError as exc:
        raise EventBusError(f"Kafka at {servers} is not reachable: {exc!r}") from exc
    try:
        futures = [producer.send(topic, key=e["event_id"], value=e) for e in events]
        for future in futures:
            future.get(timeout=30)
    except KafkaError as exc:
        raise EventBusError(f"publishing to {topic} on {servers} failed: {exc!r}") from exc
    finally:
        producer.close()
    return len(futures)


def read_topic(servers: str, topic: str, timeout: float = 10.0) -> list[dict]:
    """Every event on `topic` from the beginning, by explicit partition assignment (no group)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=servers, group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        events: list[dict] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(p) < end[p] for p in partitions):
            if time.monotonic() > deadline:
                raise EventBusError(f"reading {topic} from {servers} timed out")
            for records in consumer.poll(timeout_ms=500).values():
                events.extend(json.loads(r.value) for r in records)
        return events
    finally:
        consumer.close()
