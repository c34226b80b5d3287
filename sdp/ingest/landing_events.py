"""`landing-events`: one event per landed batch, sent after its manifest is written.

NiFi (production) and `sdp generate` (embedded) publish them; the landing sensor reads them from
its cursor's offsets up to the partitions' current ends (a metadata request and a bounded
fetch, never a long poll) and turns each into a run for the batch's raw asset partition. An
event that cannot be trusted (not JSON, not an envelope, another event type, a payload that is
not a manifest, a manifest that is not on disk) goes to `raw._rejects` with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from psycopg import Connection, sql

from sdp.events import envelope, iter_ranges, partition_offsets, send
from sdp.ingest.loader import copy_rejects
from sdp.ingest.schema import REJECTS_TABLE, SCHEMA
from sdp.landing import MANIFEST_SUFFIX, Manifest, ManifestError, manifest_from_fields
from sdp.landing import partition_dir as landing_dir

LANDING_TOPIC = "landing-events"
LANDED_EVENT_TYPE = "batch.landed"


class SupersededEvent(ManifestError):
    """The batch was landed again with other content since; its own event follows."""


@dataclass(frozen=True)
class BadEvent:
    topic: str
    partition: int
    offset: int
    rule: str
    reason: str
    record: str

    @property
    def batch_id(self) -> str:
        return f"{self.topic}.p{self.partition}.{self.offset}"


@dataclass
class LandingPoll:
    manifests: list[Manifest] = field(default_factory=list)
    bad: list[BadEvent] = field(default_factory=list)
    cursor: dict[int, int] = field(default_factory=dict)  # next offset per partition


def landed_event(manifest: Manifest) -> dict:
    """The event for a landed batch; its id names batch and content, so a resend is a repeat."""
    payload = {k: v for k, v in asdict(manifest).items() if k != "path"}
    return envelope(
        LANDED_EVENT_TYPE,
        "landing",
        payload,
        event_id=f"landed-{manifest.batch_id}-{manifest.sha256[:12]}",
    )


def publish_landed(servers: str, manifests: Iterable[Manifest]) -> int:
    """Keyed by batch_id, as NiFi's flows key them: a batch's events share one partition, so a
    re-landing is read after the landing it replaces."""
    return send(
        servers,
        LANDING_TOPIC,
        ((m.batch_id.encode(), json.dumps(landed_event(m)).encode()) for m in manifests),
    )


def parse_landed_event(value: bytes | None, landing: Path) -> Manifest:
    """The manifest an event announces, read back from the landing folder; ManifestError if not."""
    text = (value or b"").decode("utf-8", errors="replace")
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"not JSON: {exc}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("payload"), dict):
        raise ManifestError("not an event envelope with a payload object")
    if event.get("event_type") != LANDED_EVENT_TYPE:
        raise ManifestError(f"event_type {event.get('event_type')!r} is not {LANDED_EVENT_TYPE!r}")
    announced = manifest_from_fields(event["payload"], "event payload")
    directory = landing_dir(landing, announced.source, announced.entity, announced.partition_date)
    path = directory / f"{announced.batch_id}{MANIFEST_SUFFIX}"
    if not path.is_file():
        raise ManifestError(f"manifest {path} announced by the event is not in the landing folder")
    on_disk = manifest_from_fields(json.loads(path.read_text(encoding="utf-8")), str(path), path)
    if on_disk.sha256 != announced.sha256:
        raise SupersededEvent(
            f"{path}: sha256 {on_disk.sha256} differs from the event's {announced.sha256} "
            "(the batch was landed again since; its own event follows)"
        )
    return on_disk


def poll_landing_events(
    servers: str, cursor: dict[int, int], landing: Path, max_events: int = 1_000
) -> LandingPoll:
    """Events after `cursor` (the beginning for partitions it lacks), at most `max_events` per
    partition; the returned cursor points after the last event read."""
    first, end = partition_offsets(servers, LANDING_TOPIC)
    poll = LandingPoll(cursor=dict(cursor))
    ranges: dict[int, tuple[int, int]] = {}
    for p, last in end.items():
        start = max(cursor.get(p, first[p]), first[p])
        poll.cursor[p] = start
        if last > start:
            ranges[p] = (start, min(last, start + max_events))
    for p, offset, _, value in iter_ranges(servers, LANDING_TOPIC, ranges):
        try:
            poll.manifests.append(parse_landed_event(value, landing))
        except (ManifestError, OSError, ValueError) as exc:
            text = (value or b"").decode("utf-8", errors="replace")
            rule = (
                "superseded"
                if isinstance(exc, SupersededEvent)
                else "bad_json"
                if str(exc).startswith("not JSON")
                else "bad_event"
            )
            poll.bad.append(BadEvent(LANDING_TOPIC, p, offset, rule, str(exc), text))
    poll.cursor.update({p: end for p, (_, end) in ranges.items()})
    return poll


def record_bad_events(conn: Connection, bad: list[BadEvent]) -> int:
    """Into `raw._rejects` (source `kafka`, entity the topic); a repeat of one is not written."""
    with conn.transaction():
        seen = {
            row[0]
            for row in conn.execute(
                sql.SQL("select distinct batch_id from {} where batch_id = any(%s)").format(
                    sql.Identifier(SCHEMA, REJECTS_TABLE)
                ),
                ([b.batch_id for b in bad],),
            )
        }
        return copy_rejects(
            conn,
            (
                (
                    b.batch_id,
                    "kafka",
                    b.topic,
                    f"kafka:{b.topic}/{b.partition}",
                    b.offset,
                    None,
                    None,
                    b.rule,
                    b.reason,
                    b.record,
                )
                for b in bad
                if b.batch_id not in seen
            ),
        )
