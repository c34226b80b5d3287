"""Connections to the warehouse, with the session settings the contract relies on."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import psycopg

from sdp.operator import OperatorProfile, load_profile
from sdp.runtime.services import warehouse_url
from sdp.settings import Settings, load_settings

# a warehouse that does not answer is named within seconds, not after the OS gives up
CONNECT_TIMEOUT_S = 10


def session_options(profile: OperatorProfile | None = None) -> str:
    """Every warehouse session keeps the operator's time: an offset-less timestamp is read as
    local time there, and `::date` gives the operator's day, whatever the server's own zone."""
    zone = (profile or load_profile()).timezone
    return f"-c TimeZone={zone} -c DateStyle=ISO,YMD"


def address(url: str) -> str:
    """host:port/database of a connection URL: what an error may name (never the password)."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(url)
    host, port = parts.get("host") or "localhost", parts.get("port") or 5432
    return f"{host}:{port}/{parts.get('dbname') or ''}"


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (drivers add hints below it), else its type:
    what a one-line report can carry."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connection_lost(exc: psycopg.Error) -> bool:
    """The server is unreachable or went away (not a query's own failure, such as a deadlock):
    SQLSTATE class 08, an administrator or crash shutdown, or no SQLSTATE at all."""
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def relation_exists(conn: psycopg.Connection, relation: str) -> bool:
    """Whether `schema.name` exists yet: layers not built yet are skipped, not errors."""
    return conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is not None


def replace_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence]
) -> None:
    """Replace a result table whole in one transaction: a reader sees the old rows or the new
    ones, never a half-written answer."""
    with conn.transaction():
        conn.execute(f"delete from {table}")
        with conn.cursor().copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
            for row in rows:
                copy.write_row(row)


def open_session(url: str, autocommit: bool = True) -> psycopg.Connection:
    """A warehouse session in the operator's time (`session_options`). A PGTZ in the process's
    environment (dbt and Soda runs export it) overrides the startup option: then the zone is
    set again, so that no session of ours ever reads time in another zone."""
    profile = load_profile()
    conn = psycopg.connect(
        url,
        autocommit=autocommit,
        options=session_options(profile),
        connect_timeout=CONNECT_TIMEOUT_S,
    )
    if conn.info.parameter_status("TimeZone") != profile.timezone:
        conn.execute("select set_config('TimeZone', %s, false)", (profile.timezone,))
        if not autocommit:
            conn.commit()
    return conn


def connect(url: str | None = None, settings: Settings | None = None) -> psycopg.Connection:
    """Autocommit, so that every unit of work opens its own explicit transaction."""
    return open_session(url or warehouse_url(settings or load_settings()))


@contextmanager
def scratch_database(server_url: str, prefix: str = "t") -> Iterator[str]:
    """A database of its own on the server, migrated to the current schema and dropped
    afterwards: tests and benchmarks never see each other's tables. Yields its URL."""
    from sdp.migrations import upgrade  # migrations read the session options defined here

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    base, _ = server_url.rsplit("/", 1)
    try:
        upgrade(f"{base}/{name}")
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
