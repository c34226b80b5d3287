"""The raw tables the landing contract implies, and where the migrated warehouse falls short.

The contract (`sdp/contracts/sources.yaml`) says which columns each entity has; migrations are
what creates them. When the contract grows, the migrated schema no longer holds what the loader
will write: `contract_drift` finds that before any load does, and gives the DDL a new migration
needs, derived here so that the contract's types and checks are written down once.

The raw tables enforce the contract themselves (NOT NULL, enum and decimal-places checks), so a
bulk COPY that gets through is valid by construction; lineage columns default from
transaction-local settings that the loader sets once per batch, which keeps COPY a single pass.
"""

from __future__ import annotations

from psycopg import Connection, sql

from sdp.contracts import DECIMAL_PLACES, Column, Contract, Entity
from sdp.ingest.schema import SCHEMA, line_sequence

PG_TYPES = {
    "string": "text",
    "enum": "text",
    "date": "date",
    "timestamp": "timestamptz",
    "decimal": "numeric",
    "integer": "bigint",
}
# how information_schema.columns.udt_name spells each of them
UDT_NAMES = {
    "text": "text",
    "date": "date",
    "timestamptz": "timestamptz",
    "numeric": "numeric",
    "bigint": "int8",
}


def column_ddl(col: Column) -> sql.Composable:
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
    columns = [column_ddl(c) for c in entity.columns] + lineage
    comment = (
        f"{entity.source}.{entity.name} as landed; key ({', '.join(entity.key)}) "
        "per batch; lineage: batch_id, file, line, loaded_at"
    )
    return [
        sql.SQL("create sequence {}").format(seq),
        sql.SQL("create table {} ({})").format(table, sql.SQL(", ").join(columns)),
        sql.SQL("comment on table {} is {}").format(table, sql.Literal(comment)),
    ]


def contract_drift(conn: Connection, contract: Contract) -> list[str]:
    """The statements a new migration needs so that schema `raw` holds every entity and column
    the contract declares (empty when it does). Columns added to an existing table are nullable:
    the rows already loaded never had them. Nothing is ever proposed for dropping."""
    existing: dict[str, dict[str, str]] = {}
    for table, column, data_type in conn.execute(
        "select table_name, column_name, udt_name from information_schema.columns"
        " where table_schema = %s",
        (SCHEMA,),
    ):
        existing.setdefault(table, {})[column] = data_type
    statements: list[sql.Composable] = []
    for entity in contract.entities:
        columns = existing.get(entity.qualified)
        if columns is None:
            statements += entity_table_ddl(entity)
            continue
        table = sql.Identifier(SCHEMA, entity.qualified)
        for col in entity.columns:
            pg_type = PG_TYPES[col.type]
            if col.name not in columns:
                statements.append(
                    sql.SQL("alter table {} add column {}").format(
                        table, column_ddl(Column(col.name, col.type, False, col.values))
                    )
                )
            elif columns[col.name] != UDT_NAMES[pg_type]:
                ident = sql.Identifier(col.name)
                statements.append(
                    sql.SQL("alter table {} alter column {} type {} using {}::{}").format(
                        table, ident, sql.SQL(pg_type), ident, sql.SQL(pg_type)
                    )
                )
    return [s.as_string(conn) for s in statements]
