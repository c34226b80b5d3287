"""Resources: how assets and sensors reach the warehouse and the landing folder.

Both default to the platform settings (environment variables with embedded defaults), so the same
definitions run embedded, in CI and in production without edits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from dagster import ConfigurableResource, Failure
from pydantic import Field

from sdp.db import address, connect, connection_lost, first_line
from sdp.events import EventBusError
from sdp.migrations import require_current
from sdp.outbox import TABLE as OUTBOX_TABLE
from sdp.outbox import flush, record
from sdp.runtime.services import kafka_bootstrap_servers, warehouse_url
from sdp.settings import load_settings


class WarehouseResource(ConfigurableResource):
    """The PostgreSQL warehouse."""

    url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means SDP_WAREHOUSE_URL or embedded"
    )

    def resolved_url(self) -> str:
        return self.url or warehouse_url(load_settings())

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """A connection to a warehouse whose schema is the code's (else the error says to run
        `sdp migrate`): steps write rows, migrations own the tables.

        A warehouse that cannot be reached, or goes away mid-step, fails the step with its
        address; the open transaction was rolled back by the server, so a rerun completes it.
        """
        url = self.resolved_url()
        try:
            with connect(url) as conn:
                require_current(conn)
                yield conn
        except psycopg.OperationalError as exc:
            if not connection_lost(exc):
                raise
            raise Failure(
                description=(
                    f"the warehouse at {address(url)} is unreachable or went away: "
                    f"{first_line(exc)}. "
                    "Its open transaction was rolled back: rerun once it answers."
                )
            ) from exc


class EventBusResource(ConfigurableResource):
    """Kafka, where the stages publish their events."""

    bootstrap_servers: str | None = Field(
        default=None, description="Kafka brokers; unset means KAFKA_BOOTSTRAP_SERVERS or embedded"
    )

    def servers(self) -> str:
        return self.bootstrap_servers or kafka_bootstrap_servers(load_settings())

    def emit(
        self,
        conn: psycopg.Connection,
        topic: str,
        events: Iterable[dict],
        log: Callable[[str], None],
    ) -> int:
        """Record events in the warehouse outbox and send what it holds. A broker that is down
        only delays them (the outbox sensor retries), so it never fails the caller's run."""
        recorded = record(conn, topic, events)
        try:
            flushed = flush(conn, self.servers())
        except EventBusError as exc:
            log(f"{recorded} {topic} events wait in {OUTBOX_TABLE} for Kafka: {exc}")
        else:
            log(f"{recorded} new {topic} events; {flushed.sent} sent from the outbox")
        return recorded


class LandingResource(ConfigurableResource):
    """The landing folder NiFi (or `sdp generate`) writes batches to."""

    path: str | None = Field(default=None, description="landing root; unset means SDP_LANDING")

    def root(self) -> Path:
        return Path(self.path) if self.path else load_settings().landing
