"""The schema outside dbt has one owner: versioned migrations, applied once, never by a step."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from orchestration.resources import WarehouseResource
from sdp.db import connect
from sdp.migrations import (
    VERSIONS,
    MigrationError,
    current_revision,
    head_revision,
    new_revision,
    upgrade,
)

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_TABLES = {
    "raw._loads",
    "raw._rejects",
    "raw._stream_offsets",
    "raw.cdr_records",
    "quality.check_results",
    "quality.events",
    "reconciliation.customer_matches",
    "reconciliation.match_reviews",
    "rca.findings",
    "ops.event_outbox",
}


@pytest.fixture
def empty_db(server_url: str) -> Iterator[str]:
    """A database nothing has migrated yet (scratch databases arrive migrated)."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def tables(url: str) -> set[str]:
    with connect(url) as conn:
        return {
            f"{schema}.{name}"
            for schema, name in conn.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_schema in ('raw', 'quality', 'reconciliation', 'rca', 'ops')"
            )
        }


def test_an_empty_warehouse_is_migrated_to_the_head_and_a_second_run_changes_nothing(empty_db):
    lines: list[str] = []
    state = upgrade(empty_db, lines.append)
    assert state.up_to_date and state.current == head_revision()
    assert tables(empty_db) >= PLATFORM_TABLES
    assert lines and "empty -> " in lines[0]
    before = tables(empty_db)
    lines.clear()
    assert upgrade(empty_db, lines.append).up_to_date
    assert lines == [] and tables(empty_db) == before


def test_concurrent_migrations_take_turns_and_all_succeed(empty_db):
    """Three processes at once, as `sdp up`, `sdp migrate` and a code location starting."""
    script = "import sys; from sdp.migrations import upgrade; upgrade(sys.argv[1])"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, empty_db], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outcomes = [(run.wait(timeout=120), run.stderr.read()) for run in runs]
    assert outcomes == [(0, "")] * 3
    with connect(empty_db) as conn:
        assert current_revision(conn) == head_revision()


def test_a_failing_migration_names_itself_and_leaves_the_schema_as_it_was(empty_db, tmp_path):
    upgrade(empty_db)
    broken = f"{int(head_revision()) + 1:04d}"
    (tmp_path / f"{broken}_broken.py").write_text(
        '"""Broken on purpose: creates a table, then fails."""\n'
        "from alembic import op\n"
        f"revision = {broken!r}\ndown_revision = {head_revision()!r}\n"
        "branch_labels = None\ndepends_on = None\n"
        "def upgrade():\n"
        "    op.execute('create table ops.half_done (x int)')\n"
        "    op.execute('select no_such_function()')\n"
        "def downgrade():\n    pass\n"
    )
    with pytest.raises(MigrationError) as failed:
        upgrade(empty_db, versions=(*VERSIONS, tmp_path))
    message = str(failed.value)
    assert f"migration {broken} (Broken on purpose" in message
    assert "no_such_function" in message
    assert f"stays at revision {head_revision()}" in message
    assert "ops.half_done" not in tables(empty_db)
    with connect(empty_db) as conn:
        assert current_revision(conn) == head_revision()


def test_a_contract_column_no_migration_creates_is_named_with_its_ddl(empty_db):
    upgrade(empty_db)
    with connect(empty_db) as conn:
        conn.execute("alter table raw.crm_customers drop column postcode")
    with pytest.raises(MigrationError, match=r'add column "postcode" text'):
        upgrade(empty_db)


def test_a_warehouse_never_migrated_is_refused_with_what_to_run(empty_db):
    refused = pytest.raises(MigrationError, match=r"never migrated.*sdp migrate")
    with refused, WarehouseResource(url=empty_db).connect():
        pass
    upgrade(empty_db)
    with WarehouseResource(url=empty_db).connect() as conn:
        assert current_revision(conn) == head_revision()


DDL = re.compile(
    r"\b(create|alter|drop|comment\s+on)\s+(table|index|schema|sequence|view|column)\b",
    re.IGNORECASE,
)


def test_no_ddl_outside_the_migrations():
    """Loads, assets, sensors and stores only write rows: DDL there deadlocked parallel runs."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("sdp", "orchestration", "rca")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if DDL.search(line)
    ]
    assert offenders == []


def test_a_grown_contract_gets_its_revision_written_and_applied(empty_db, tmp_path):
    upgrade(empty_db)
    with connect(empty_db) as conn:
        conn.execute("alter table raw.oss_alarms drop column description")
        written = new_revision(conn, "Alarms carry a description", directory=tmp_path)
    assert written.name == f"{int(head_revision()) + 1:04d}_alarms_carry_a_description.py"
    assert 'add column "description" text' in written.read_text()
    state = upgrade(empty_db, versions=(*VERSIONS, tmp_path))
    assert state.current == written.name[:4] and state.up_to_date
    with connect(empty_db) as conn:
        assert conn.execute(
            "select count(*) from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'oss_alarms'"
            " and column_name = 'description'"
        ).fetchone() == (1,)
