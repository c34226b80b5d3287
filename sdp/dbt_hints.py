"""What a failing dbt test most likely means, in words a person can act on.

A test's count of failing rows says that something is wrong, not what. A test whose config
carries `meta: {hint: ...}` gets its hint filled in when it fails: how many of the model's rows
fail, which operator setting is in force, and samples of the raw values behind them, so that
"27,955 of 27,955 CDR MSISDNs are not numbers" comes with "check SDP_OPERATOR_COUNTRY".

The hint is a `str.format` template over: failures, rows, share (a fraction), country, timezone,
samples. `meta.samples` names the column whose values are shown for the rows a `not_null`
test fails on (the raw form staging keeps beside a normalized column that is null).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import Connection, sql

from sdp.operator import OperatorProfile


def failure_hint(
    conn: Connection,
    manifest: Mapping[str, Any],
    test_id: str,
    failures: int,
    profile: OperatorProfile,
) -> str | None:
    """The filled-in hint of failing test `test_id`, or None when it declares none."""
    test = manifest.get("nodes", {}).get(test_id) or {}
    meta = (test.get("config") or {}).get("meta") or test.get("meta") or {}
    template = meta.get("hint")
    model = manifest.get("nodes", {}).get(test.get("attached_node") or "")
    if not template or not model:
        return None
    relation = sql.Identifier(model["schema"], model.get("alias") or model["name"])
    rows = conn.execute(sql.SQL("select count(*) from {}").format(relation)).fetchone()[0]
    column = test.get("column_name") or (test.get("test_metadata") or {}).get("kwargs", {}).get(
        "column_name"
    )
    samples = ""
    if meta.get("samples") and column:
        values = conn.execute(
            sql.SQL(
                "select distinct {sample}::text from {relation} where {column} is null"
                " and {sample} is not null order by 1 limit 5"
            ).format(
                sample=sql.Identifier(meta["samples"]),
                relation=relation,
                column=sql.Identifier(column),
            )
        ).fetchall()
        samples = ", ".join(repr(v) for (v,) in values) or "none"
    return str(template).format(
        failures=failures,
        rows=rows,
        share=failures / rows if rows else 0.0,
        country=profile.country,
        timezone=profile.timezone,
        samples=samples,
    )
