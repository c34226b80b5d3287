"""Fixtures on the real embedded PostgreSQL: each test gets a database of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest

from sdp.db import connect
from sdp.runtime.services import up, warehouse_url
from sdp.settings import load_settings


@pytest.fixture(scope="session")
def server_url() -> str:
    settings = load_settings()
    if settings.embedded_warehouse:
        up(settings)  # no-op when `make test` already started it
    return warehouse_url(settings)


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A database of its own, dropped afterwards: tests never see each other's tables."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    base, _ = server_url.rsplit("/", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def scratch_db(server_url: str) -> Callable[[], AbstractContextManager[str]]:
    """For module-scoped fixtures that need a database of their own."""
    return lambda: scratch_database(server_url)


@pytest.fixture
def db_url(server_url: str) -> Iterator[str]:
    with scratch_database(server_url) as url:
        yield url


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with connect(db_url) as connection:
        yield connection


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    return root
