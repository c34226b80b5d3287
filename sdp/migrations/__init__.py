"""The warehouse schema the platform owns outside dbt, as versioned Alembic migrations.

Every table the platform writes outside dbt (raw and its bookkeeping, quality, reconciliation,
rca, ops) is created and changed only by the revisions in `versions/`, applied by `sdp up`,
`sdp migrate` and before the code location serves: never inside a load or an asset step, where
DDL takes locks that deadlock against another step's rows. Code that writes those tables asks
`require_current` first, so a warehouse behind the code is named, not half-written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import psycopg
import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from sdp.contracts import load_contract
from sdp.db import connect, first_line, open_session
from sdp.migrations.raw_tables import contract_drift

HERE = Path(__file__).resolve().parent
# not Alembic's default name: Dagster's storage keeps its own `alembic_version`, and it may share
# the warehouse's database (SDP_WAREHOUSE_URL without SDP_DAGSTER_STORAGE_URL)
VERSION_TABLE = "sdp_schema_version"


class MigrationError(RuntimeError):
    """A migration that failed, or a warehouse whose schema is not the one the code needs."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


VERSIONS = (HERE / "versions",)


def _config(versions: tuple[Path, ...]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(v) for v in versions))
    return config


@cache
def _shipped_scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(VERSIONS))


def _scripts(versions: tuple[Path, ...] = VERSIONS) -> ScriptDirectory:
    """The revisions; the shipped ones are read once per process (every step asks the head)."""
    return (
        _shipped_scripts()
        if versions == VERSIONS
        else ScriptDirectory.from_config(_config(versions))
    )


def _context(connection: sqlalchemy.Connection) -> MigrationContext:
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})


def head_revision(versions: tuple[Path, ...] = VERSIONS) -> str:
    head = _scripts(versions).get_current_head()
    if head is None:
        raise MigrationError(f"no migration under {', '.join(map(str, versions))}")
    return head


def describe(revision: str, versions: tuple[Path, ...] = VERSIONS) -> str:
    script = _scripts(versions).get_revision(revision)
    return f"{revision} ({script.doc})" if script is not None else revision


def _engine(url: str) -> sqlalchemy.Engine:
    # psycopg takes the libpq URL as it is (an empty password included); SQLAlchemy only wraps it
    return sqlalchemy.create_engine(
        "postgresql+psycopg://",
        creator=lambda: open_session(url, autocommit=False),
        poolclass=NullPool,
    )


def current_revision(conn: psycopg.Connection) -> str | None:
    """The revision the warehouse is at (None: never migrated)."""
    if conn.execute("select to_regclass(%s)", (f"public.{VERSION_TABLE}",)).fetchone()[0] is None:
        return None
    row = conn.execute(f"select version_num from public.{VERSION_TABLE}").fetchone()
    return row[0] if row else None


def state(conn: psycopg.Connection, versions: tuple[Path, ...] = VERSIONS) -> SchemaState:
    return SchemaState(current=current_revision(conn), head=head_revision(versions))


def upgrade(
    url: str,
    log: Callable[[str], None] = lambda _: None,
    versions: tuple[Path, ...] = VERSIONS,
) -> SchemaState:
    """Bring the warehouse at `url` to the newest revision; a no-op when it is there already.

    A revision that fails is rolled back whole (each runs in its own transaction) and the error
    names it and the revision the schema stayed at. Afterwards the contract is compared with the
    migrated raw schema: a contract column no migration creates is an error naming the DDL.
    """
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            before = _context(connection).get_current_revision()
            connection.rollback()
            config = _config(versions)
            config.attributes["connection"] = connection
            try:
                command.upgrade(config, "head")
            except Exception as exc:
                connection.rollback()
                at = _context(connection).get_current_revision()
                failed = _next_revision(at, versions)
                raise MigrationError(
                    f"migration {describe(failed, versions)} failed: {_first_line(exc)}; "
                    f"the schema stays at revision {at or 'none (empty)'}"
                ) from exc
    except sqlalchemy.exc.OperationalError as exc:
        # unreachable: the driver's own error, which callers turn into "which address, why"
        if isinstance(exc.orig, psycopg.OperationalError):
            raise exc.orig from None
        raise
    finally:
        engine.dispose()
    with connect(url) as conn:
        after = state(conn, versions)
        drift = contract_drift(conn, load_contract())
    if before != after.current:
        log(f"warehouse schema: {before or 'empty'} -> {describe(after.current or '', versions)}")
    if drift:
        raise MigrationError(
            "the landing contract declares what no migration creates; `sdp migrate --new "
            f"MESSAGE` writes the revision under {HERE / 'versions'} with:\n  "
            + ";\n  ".join(drift)
        )
    return after


REVISION_TEMPLATE = '''"""{message}

Revision ID: {revision}
Revises: {down_revision}
Create Date: {created}
"""

from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None

STATEMENTS = (
{statements}
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("raw columns are never dropped: their rows were loaded")
'''


def new_revision(conn: psycopg.Connection, message: str, directory: Path = VERSIONS[0]) -> Path:
    """Write the next revision, holding the DDL that brings schema `raw` to the contract, for
    a person to review and commit (the contract grew: the migration is one command away)."""
    from datetime import UTC, datetime

    statements = contract_drift(conn, load_contract())
    if not statements:
        raise MigrationError("schema raw already holds everything the contract declares")
    head = head_revision((*VERSIONS, directory) if directory not in VERSIONS else VERSIONS)
    revision = f"{int(head) + 1:04d}"
    slug = "_".join(re.findall(r"[a-z0-9]+", message.lower()))[:40] or "contract"
    path = directory / f"{revision}_{slug}.py"
    path.write_text(
        REVISION_TEMPLATE.format(
            message=message,
            revision=revision,
            down_revision=head,
            created=datetime.now(UTC).date().isoformat(),
            statements="\n".join(f"    {s!r}," for s in statements),
        )
    )
    return path


def require_current(conn: psycopg.Connection) -> None:
    """Refuse to write into a warehouse whose schema is not the code's: say what to run."""
    found = current_revision(conn)
    head = head_revision()
    if found != head:
        raise MigrationError(
            f"the warehouse schema is at revision {found or 'none (never migrated)'}, this code "
            f"needs {head}: run `sdp migrate` (or `sdp up`)"
        )


def _next_revision(current: str | None, versions: tuple[Path, ...]) -> str:
    """The revision an upgrade from `current` applies first."""
    for script in _scripts(versions).walk_revisions("base", "heads"):
        if script.down_revision == current:
            return script.revision
    return head_revision(versions)


def _first_line(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig else exc
    return first_line(cause)
