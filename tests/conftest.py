"""Fixtures on the real embedded PostgreSQL: each test gets a database of its own."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import psycopg
import pytest

from orchestration.inprocess import build_landed_days
from sdp.db import connect, scratch_database
from sdp.generator import generate
from sdp.runtime.services import up, warehouse_url
from sdp.settings import load_settings


@pytest.fixture(scope="session")
def server_url() -> str:
    settings = load_settings()
    if settings.embedded_warehouse:
        up(settings)  # no-op when `make test` already started it
    return warehouse_url(settings)


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


# The whole lineage (raw → Zingg → dbt → controls) built in process once per scenario.
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def build_scenario(scratch_db, tmp: Path, scenario: str) -> Iterator[tuple[str, dict]]:
    landing = tmp / "landing"
    result = generate(SCENARIOS / scenario, landing)
    truth = json.loads(result.ground_truth.read_text())
    days = sorted(p.name[3:] for p in landing.glob("cdr/records/dt=*"))
    with scratch_db() as url:
        outcome = build_landed_days(url, landing, days)
        assert outcome.success, [e.message for e in outcome.all_events if e.is_failure]
        yield url, truth


@pytest.fixture(scope="session")
def default_build(scratch_db, tmp_path_factory) -> Iterator[tuple[str, dict]]:
    yield from build_scenario(scratch_db, tmp_path_factory.mktemp("default"), "default.yaml")


@pytest.fixture(scope="session")
def clean_build(scratch_db, tmp_path_factory) -> Iterator[tuple[str, dict]]:
    yield from build_scenario(scratch_db, tmp_path_factory.mktemp("clean"), "clean.yaml")
