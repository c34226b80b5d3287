"""Resources: how assets and sensors reach the warehouse and the landing folder.

Both default to the platform settings (environment variables with embedded defaults), so the same
definitions run embedded, in CI and in production without edits.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from dagster import ConfigurableResource
from pydantic import Field

from sdp.contracts import load_contract
from sdp.db import connect
from sdp.ingest.schema import ensure_raw_schema
from sdp.runtime.services import kafka_bootstrap_servers, warehouse_url
from sdp.settings import load_settings


class WarehouseResource(ConfigurableResource):
    """The PostgreSQL warehouse."""

    url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means SDP_WAREHOUSE_URL or embedded"
    )

    def resolved_url(self) -> str:
        return self.url or warehouse_url(load_settings())

    def connect(self) -> psycopg.Connection:
        return connect(self.resolved_url())

    def connect_raw(self) -> psycopg.Connection:
        """A connection with schema `raw` in place for the current contract."""
        conn = self.connect()
        ensure_raw_schema(conn, load_contract())
        return conn


class EventBusResource(ConfigurableResource):
    """Kafka, where the stages publish their events."""

    bootstrap_servers: str | None = Field(
        default=None, description="Kafka brokers; unset means KAFKA_BOOTSTRAP_SERVERS or embedded"
    )

    def servers(self) -> str:
        return self.bootstrap_servers or kafka_bootstrap_servers(load_settings())


class LandingResource(ConfigurableResource):
    """The landing folder NiFi (or `sdp generate`) writes batches to."""

    path: str | None = Field(default=None, description="landing root; unset means SDP_LANDING")

    def root(self) -> Path:
        return Path(self.path) if self.path else load_settings().landing
