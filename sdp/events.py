"""The platform's topics and the event envelope every stage publishes with.

Envelope (JSON): `{event_id, event_type, occurred_at, source, schema_version, payload}`; the
event id is the record key unless a topic keys by what it orders (landing-events: the batch),
and names what the event describes, so a consumer can drop a redelivered event. Nine topics of three
partitions each; `landing-events` and `cdr-events` feed sensors, the stages publish to the rest.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterable, Iterator
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
ENVELOPE_FIELDS = ("event_id", "event_type", "occurred_at", "source", "schema_version", "payload")


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
    """Send envelopes, keyed by event id, and wait until the broker has them all."""
    return send(
        servers,
        topic,
        ((e["event_id"].encode(), json.dumps(e, default=str).encode()) for e in events),
    )


def send(servers: str, topic: str, records: Iterable[tuple[bytes | None, bytes | None]]) -> int:
    """Send (key, value) records as they are (acks from every replica); returns how many."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    try:
        # a topic that does not exist blocks the send for metadata: fail in seconds, not 60
        producer = KafkaProducer(
            bootstrap_servers=servers, acks="all", linger_ms=5, max_block_ms=10_000
        )
    except KafkaError as exc:
        raise EventBusError(f"Kafka at {servers} is not reachable: {exc!r}") from exc
    try:
        futures = [producer.send(topic, key=k, value=v) for k, v in records]
        for future in futures:
            future.get(timeout=30)
    except KafkaError as exc:
        raise EventBusError(f"publishing to {topic} on {servers} failed: {exc!r}") from exc
    finally:
        producer.close()
    return len(futures)


@contextlib.contextmanager
def _partitions(servers: str, topic: str):
    """A consumer without a group and every partition of `topic`; a topic that does not exist
    is named with the topics there are."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    try:
        consumer = KafkaConsumer(bootstrap_servers=servers, group_id=None, enable_auto_commit=False)
    except KafkaError as exc:
        raise EventBusError(f"Kafka at {servers} is not reachable: {exc!r}") from exc
    try:
        ids = consumer.partitions_for_topic(topic)
        if not ids:
            known = ", ".join(sorted(consumer.topics())) or "none"
            raise EventBusError(f"topic {topic!r} does not exist on {servers}; its topics: {known}")
        yield consumer, [TopicPartition(topic, p) for p in sorted(ids)]
    except KafkaError as exc:
        raise EventBusError(f"reading {topic} on {servers} failed: {exc!r}") from exc
    finally:
        consumer.close()


def read_topic(servers: str, topic: str, timeout: float = 10.0) -> list[dict]:
    """Every event on `topic` from the beginning, by explicit partition assignment (no group)."""
    with _partitions(servers, topic) as (consumer, partitions):
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


def partition_offsets(servers: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    """(first, next) offset of every partition of `topic`: a metadata request, never a poll."""
    with _partitions(servers, topic) as (consumer, partitions):
        first = consumer.beginning_offsets(partitions)
        last = consumer.end_offsets(partitions)
        return (
            {tp.partition: first[tp] for tp in partitions},
            {tp.partition: last[tp] for tp in partitions},
        )


def range_reader(servers: str):
    """A consumer without a group, for reading explicit offsets; large fetches, because the
    stream loader reads ranges of up to 100k events."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    try:
        return KafkaConsumer(
            bootstrap_servers=servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 << 20,
            fetch_max_bytes=32 << 20,
            max_poll_records=5_000,
        )
    except KafkaError as exc:
        raise EventBusError(f"Kafka at {servers} is not reachable: {exc!r}") from exc


def iter_ranges(
    servers: str, topic: str, ranges: dict[int, tuple[int, int]], timeout: float = 60.0
) -> Iterator[tuple[int, int, int, bytes | None]]:
    """The records of `topic` in each partition's [start, end), as (partition, offset,
    timestamp_ms, value), yielded as they arrive so that the caller's work overlaps the fetch.

    Offsets the broker no longer holds (retention) are skipped, so a partition may start later
    than asked; nothing past `end` is yielded, whatever else has arrived since.
    """
    from kafka import TopicPartition
    from kafka.errors import KafkaError

    wanted = {p: r for p, r in ranges.items() if r[1] > r[0]}
    if not wanted:
        return
    consumer = range_reader(servers)
    try:
        tps = {p: TopicPartition(topic, p) for p in wanted}
        consumer.assign(list(tps.values()))
        for p, (start, _) in wanted.items():
            consumer.seek(tps[p], start)
        open_parts = set(wanted)
        deadline = time.monotonic() + timeout
        while open_parts:
            if time.monotonic() > deadline:
                raise EventBusError(
                    f"reading {topic} {', '.join(f'{p}:{wanted[p]}' for p in open_parts)} "
                    f"from {servers} timed out after {timeout:.0f}s"
                )
            for tp, records in consumer.poll(timeout_ms=500).items():
                p, end = tp.partition, wanted[tp.partition][1]
                for r in records:
                    if r.offset < end:
                        yield p, r.offset, r.timestamp, r.value
            for p in list(open_parts):
                if consumer.position(tps[p]) >= wanted[p][1]:
                    open_parts.discard(p)
                    consumer.pause(tps[p])
    except KafkaError as exc:
        raise EventBusError(f"reading {topic} from {servers} failed: {exc!r}") from exc
    finally:
        consumer.close()
