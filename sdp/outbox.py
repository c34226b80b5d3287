"""The event outbox: stages record their events in the warehouse, a flush sends them to Kafka.

A stage writes its events into `ops.event_outbox` (in the transaction of its own work where it
has one) and flushes afterwards. The envelope's id is chosen by the stage from what the event
describes (a batch, a run, a step), so a re-run records nothing new and a flush repeated after
a failure sends the same ids again, which consumers drop. A broker that is down delays events
without losing any: the next flush, from any stage or the outbox sensor, sends them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import Connection
from psycopg.types.json import Jsonb

from sdp.events import TOPICS, publish

SCHEMA = "ops"
TABLE = f"{SCHEMA}.event_outbox"


@dataclass(frozen=True)
class FlushResult:
    sent: int
    pending: int


def record(conn: Connection, topic: str, events: Iterable[dict]) -> int:
    """Keep events for `topic`; an id already recorded is ignored. Returns how many were new."""
    if topic not in TOPICS:
        raise ValueError(f"{topic!r} is not one of the platform's topics ({', '.join(TOPICS)})")
    new = 0
    with conn.transaction():
        for event in events:
            cur = conn.execute(
                f"insert into {TABLE} (event_id, topic, event) values (%s, %s, %s)"
                " on conflict (event_id) do nothing",
                (event["event_id"], topic, Jsonb(json.loads(json.dumps(event, default=str)))),
            )
            new += cur.rowcount
    return new


def flush(conn: Connection, servers: str, batch: int = 5_000) -> FlushResult:
    """Send every pending event, oldest first, topic by topic; raises EventBusError on failure.

    Rows are locked while they are sent, so two flushes at once never send the same row twice.
    """
    sent = 0
    while True:
        with conn.transaction():
            rows = conn.execute(
                f"select seq, topic, event from {TABLE} where published_at is null"
                " order by seq limit %s for update skip locked",
                (batch,),
            ).fetchall()
            if not rows:
                break
            for topic in dict.fromkeys(r[1] for r in rows):
                publish(servers, topic, [r[2] for r in rows if r[1] == topic])
            conn.execute(
                f"update {TABLE} set published_at = now() where seq = any(%s)",
                ([r[0] for r in rows],),
            )
        sent += len(rows)
    return FlushResult(sent=sent, pending=pending(conn))


def pending(conn: Connection) -> int:
    return conn.execute(f"select count(*) from {TABLE} where published_at is null").fetchone()[0]
