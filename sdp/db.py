"""Connections to the warehouse, with the session settings the contract relies on."""

from __future__ import annotations

import psycopg

from sdp.runtime.services import warehouse_url
from sdp.settings import Settings, load_settings

# Offset-less timestamps are UTC by contract, whatever the server's own default zone is.
SESSION_OPTIONS = "-c TimeZone=UTC -c DateStyle=ISO,YMD"


def connect(url: str | None = None, settings: Settings | None = None) -> psycopg.Connection:
    """Autocommit, so that every unit of work opens its own explicit transaction."""
    target = url or warehouse_url(settings or load_settings())
    return psycopg.connect(target, autocommit=True, options=SESSION_OPTIONS)
