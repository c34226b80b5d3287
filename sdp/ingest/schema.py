"""DDL of schema `raw`, derived from the contract.

The raw tables enforce the contract themselves (NOT NULL, enum and decimal-places checks), so a
bulk COPY that gets through is valid by construction; lineage columns default from
transaction-local settings that the loader sets once per batch, which keeps COPY a single pass.
"""

from __future__ import annotations

from psycopg import Connection, sql

from sdp.contracts import DECIMAL_PLACES, Column, Contract, Entity

SCHEMA = "raw"
REJECTS_TABLE = "_rejects"
LOADS_TABLE = "_loads"

PG_TYPES = {
    "string": "text",
    "enum": "text",
    "date": "date",
    "timestamp": "timestamptz",
    "decimal": "numeric",
    "integer": "bigint",
}


def line_sequence(entity: Entity) -> str:
    return f"{entity.qualified}__line"


def _column_ddl(col: Column) -> sql.Composable:
    ident = sql.Identifier(col.name)
    parts: list[sql.Composable] = [ident, sql.SQL(PG_TYPES[col.type])]
    checks: list[sql.Composable] = []
    if col.required:
        parts.append(sql.SQL("not null"))
        if col.type in ("string", "enum"):
            checks.append(sql.SQL("btrim({}) <> ''").format(ident))
    if col.type == "enum":
        checks.append(
            sql.SQL("{} in ({})").format(ident, sql.SQL(", ").join(map(sql.Literal, col.values)))
        )
    if col.type == "decimal":
        # NaN and infinities have no scale: coalesce makes them fail instead of pass
        checks.append(
            sql.SQL("coalesce(scale({}) <= {}, {} is null)").format(
                ident, sql.Literal(DECIMAL_PLACES), ident
            )
        )
    for check in checks:
        parts.append(sql.SQL("check ({})").format(check))
    return sql.SQL(" ").join(parts)


def entity_table_ddl(entity: Entity) -> list[sql.Composable]:
    table = sql.Identifier(SCHEMA, entity.qualified)
    seq = sql.Identifier(SCHEMA, line_sequence(entity))
    seq_text = sql.Literal(f"{SCHEMA}.{line_sequence(entity)}")
    lineage = [
        sql.SQL("batch_id text not null default current_setting('sdp.batch_id')"),
        sql.SQL("file text not null default current_setting('sdp.file')"),
        sql.SQL("line bigint not null default nextval({}::regclass)").format(seq_text),
        sql.SQL("loaded_at timestamptz not null default now()"),
    ]
    columns = [_column_ddl(c) for c in entity.columns] + lineage
    statements: list[sql.Composable] = [
        sql.SQL("create sequence if not exists {}").format(seq),
        sql.SQL("create table if not exists {} ({})").format(table, sql.SQL(", ").join(columns)),
    ]
    statements.append(
        sql.SQL("comment on table {} is {}").format(
            table,
            sql.Literal(
                f"{entity.source}.{entity.name} as landed; key ({', '.join(entity.key)}) "
                "per batch; lineage: batch_id, file, line, loaded_at"
            ),
        )
    )
    return statements


CONTROL_TABLES = f"""
create table if not exists {SCHEMA}.{REJECTS_TABLE} (
    reject_id bigint generated always as identity primary key,
    batch_id text not null,
    source text not null,
    entity text not null,
    file text not null,
    line bigint,
    column_name text,
    value text,
    rule text not null,
    reason text not null,
    record text,
    rejected_at timestamptz not null default now()
);
create index if not exists {REJECTS_TABLE}_batch on {SCHEMA}.{REJECTS_TABLE} (batch_id);
comment on table {SCHEMA}.{REJECTS_TABLE} is
    'every landed row that broke the contract, with file, line, column and reason';
create table if not exists {SCHEMA}.{LOADS_TABLE} (
    batch_id text primary key,
    source text not null,
    entity text not null,
    partition_date date not null,
    file text not null,
    format text not null,
    sha256 text not null,
    schema_version int not null,
    landed_at timestamptz not null,
    status text not null check (status in ('loaded', 'rejected')),
    error text,
    rows_in bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    bytes bigint not null,
    seconds double precision not null,
    method text not null,
    extra_columns text[] not null default '{{}}',
    missing_columns text[] not null default '{{}}',
    loaded_at timestamptz not null default now()
);
create index if not exists {LOADS_TABLE}_partition
    on {SCHEMA}.{LOADS_TABLE} (source, entity, partition_date);
comment on table {SCHEMA}.{LOADS_TABLE} is
    'one row per landed batch: the idempotency key and the load outcome';
"""


def ensure_raw_schema(conn: Connection, contract: Contract) -> None:
    """Idempotent: safe to run before every load. Serialised so parallel runs do not race."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtextextended('sdp.raw.ddl', 0))")
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(SCHEMA)))
        conn.execute(CONTROL_TABLES)
        existing = {
            (table, column)
            for table, column in conn.execute(
                "select table_name, column_name from information_schema.columns"
                " where table_schema = %s",
                (SCHEMA,),
            )
        }
        for entity in contract.entities:
            if (entity.qualified, "batch_id") not in existing:
                for statement in entity_table_ddl(entity):
                    conn.execute(statement)
                continue
            # a contract that grows a column grows the table; nothing is ever dropped here
            for col in entity.columns:
                if (entity.qualified, col.name) not in existing:
                    conn.execute(
                        sql.SQL("alter table {} add column {}").format(
                            sql.Identifier(SCHEMA, entity.qualified),
                            _column_ddl(Column(col.name, col.type, False, col.values)),
                        )
                    )
