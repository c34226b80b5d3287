"""Publish the recorded quality events to Kafka's `quality-events` topic.

`quality.events` is an outbox: every event is recorded there first, in the warehouse
transaction that produced it, and published afterwards. Each envelope's id is derived from the
row, so publishing again after a failure sends the same event (consumers drop the repeat) and a
broker that is down delays events without losing any.
"""

from __future__ import annotations

from psycopg import Connection

from sdp.events import envelope, publish
from sdp.quality.store import SCHEMA

TOPIC = "quality-events"


def publish_quality_events(conn: Connection, servers: str, batch: int = 5_000) -> int:
    """Publish every unpublished quality event; returns how many were sent."""
    sent = 0
    while True:
        rows = conn.execute(
            f"select event_id, event_type, dataset, day, payload, created_at from {SCHEMA}.events"
            " where published_at is null order by event_id limit %s",
            (batch,),
        ).fetchall()
        if not rows:
            return sent
        events = [
            envelope(
                event_type,
                "quality",
                {"dataset": dataset, "day": day, **payload},
                event_id=f"quality-{event_id}",
                occurred_at=created_at,
            )
            for event_id, event_type, dataset, day, payload, created_at in rows
        ]
        publish(servers, TOPIC, events)
        with conn.transaction():
            conn.execute(
                f"update {SCHEMA}.events set published_at = now() where event_id = any(%s)",
                ([r[0] for r in rows],),
            )
        sent += len(rows)
