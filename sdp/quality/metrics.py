"""The daily metrics quality watches: one value per metric, dimension and day.

Feeds (one per source entity, one per mediating element for CDRs) give rows landed, reject rate,
lateness against the partition day, columns off the contract and the null rate of each optional
column, all read from `raw._loads` and the raw rows. CRM gives the share of updated customers
with an invalid email or a phone that does not normalize; the controls give leakage %; the
network KPIs come per core element. Days are partition days (when the data is for), never the
day the platform happened to load it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from psycopg import Connection, sql

from sdp.contracts import Contract, Entity
from sdp.db import relation_exists

INITIAL_SNAPSHOT_RATIO = 10  # a first day this many times the usual day is a full extract
# volumes follow the week (fewer calls on Sundays); rates and delays do not
SEASONAL = frozenset({"rows_landed", "cdr_count", "data_volume_mb", "critical_alarms"})


@dataclass(frozen=True)
class MetricPoint:
    metric: str
    dimension: str  # e.g. "cdr.records/MSC-NWE-01", "crm.customers", "network/PGW-MID-01"
    day: date
    value: float
    support: int | None = None  # rows behind a rate: 2 of 5 is not 40 % of 5,000


def _feed_expr(entity: Entity) -> sql.Composable:
    """CDR batches come one per mediating element: that element is the feed."""
    name = f"{entity.source}.{entity.name}"
    if "network_element_id" in entity.column_names and entity.source == "cdr":
        return sql.SQL("{} || '/' || min(network_element_id)").format(sql.Literal(name))
    return sql.Literal(name)


def _entity_batches(conn: Connection, entity: Entity) -> Iterator[MetricPoint]:
    """Per feed and partition day: landing metrics from `_loads`, null rates from the rows."""
    optional = [c.name for c in entity.columns if not c.required]
    null_counts = [sql.Identifier(f"null_{i}") for i in range(len(optional))]
    query = sql.SQL(
        """
        with b as (
            select batch_id, {feed} as feed, count(*) as n{nulls}
            from raw.{table}
            group by batch_id
        )
        select l.partition_date,
               coalesce(b.feed, {name}) as feed,
               sum(l.rows_in),
               sum(l.rows_rejected)::float8 / nullif(sum(l.rows_in), 0),
               max(extract(epoch from l.landed_at - (l.partition_date + 1)::timestamptz) / 3600),
               max(cardinality(l.extra_columns) + cardinality(l.missing_columns)),
               sum(b.n){null_sums}
        from raw._loads as l
        left join b using (batch_id)
        where l.source = {source} and l.entity = {entity}
        group by 1, 2
        """
    ).format(
        feed=_feed_expr(entity),
        nulls=sql.SQL("").join(
            sql.SQL(", count(*) filter (where {} is null) as {}").format(sql.Identifier(c), n)
            for c, n in zip(optional, null_counts, strict=True)
        ),
        table=sql.Identifier(entity.qualified),
        name=sql.Literal(f"{entity.source}.{entity.name}"),
        source=sql.Literal(entity.source),
        entity=sql.Literal(entity.name),
        null_sums=sql.SQL("").join(sql.SQL(", sum(b.{})").format(n) for n in null_counts),
    )
    for day, feed, rows, reject_rate, late, off_contract, loaded, *nulls in conn.execute(query):
        yield MetricPoint("rows_landed", feed, day, float(rows))
        yield MetricPoint("reject_rate", feed, day, float(reject_rate or 0.0), int(rows))
        yield MetricPoint("lateness_hours", feed, day, float(late))
        yield MetricPoint("columns_off_contract", feed, day, float(off_contract))
        if loaded:
            for column, count in zip(optional, nulls, strict=True):
                rate = float(count) / float(loaded)
                yield MetricPoint(f"null_rate:{column}", feed, day, rate, int(loaded))


def _contact_validity(conn: Connection) -> Iterator[MetricPoint]:
    """Share of the CRM customers landed each day with a broken email or phone."""
    rows = conn.execute(
        """
        select l.partition_date,
               avg((c.email is not null and not c.email_is_valid)::int),
               avg((c.phone_raw is not null and c.phone_e164 is null)::int),
               count(*)
        from staging.stg_crm__customers as c
        inner join raw._loads as l using (batch_id)
        group by 1
        """
    )
    for day, emails, phones, n in rows:
        yield MetricPoint("invalid_email_rate", "crm.customers", day, float(emails), n)
        yield MetricPoint("invalid_phone_rate", "crm.customers", day, float(phones), n)


def _leakage(conn: Connection) -> Iterator[MetricPoint]:
    """Usage leakage % per day: the monthly controls (fees, GL) date their exceptions to the
    window and would swamp one day."""
    rows = conn.execute(
        """
        select event_date,
               coalesce(100 * sum(leakage_amount) / nullif(sum(expected_revenue), 0), 0)
        from controls.ctl_leakage_daily
        where control in ('usage_completeness', 'rating_accuracy')
        group by 1
        """
    )
    for day, pct in rows:
        yield MetricPoint("leakage_pct", "all", day, float(pct))


def _network(conn: Connection) -> Iterator[MetricPoint]:
    rows = conn.execute(
        """
        select k.event_date, k.network_element_id, k.cdr_count, k.answer_seizure_ratio,
               k.drop_rate, k.data_volume_mb, coalesce(a.critical, 0)
        from kpis.kpi_network_element_daily as k
        left join (
            select (raised_at at time zone 'UTC')::date as day, network_element_id,
                   count(*) filter (where severity = 'critical') as critical
            from staging.stg_oss__alarms
            group by 1, 2
        ) as a on a.day = k.event_date and a.network_element_id = k.network_element_id
        where k.network_element_id is not null
        """
    )
    for day, element, cdrs, asr, drops, volume, critical in rows:
        dimension = f"network/{element}"
        yield MetricPoint("cdr_count", dimension, day, float(cdrs))
        yield MetricPoint("critical_alarms", dimension, day, float(critical))
        if asr is not None:
            yield MetricPoint("answer_seizure_ratio", dimension, day, float(asr))
        if drops is not None:
            yield MetricPoint("drop_rate", dimension, day, float(drops))
        if volume:
            yield MetricPoint("data_volume_mb", dimension, day, float(volume))


def _without_initial_snapshot(points: list[MetricPoint]) -> list[MetricPoint]:
    """Feeds that start with a full extract (customers, subscriptions, accounts) and then send
    changes: the first day's volume says nothing about the days after it."""
    first: dict[str, MetricPoint] = {}
    later: dict[str, list[float]] = {}
    for p in sorted(points, key=lambda p: p.day):
        if p.metric != "rows_landed":
            continue
        if p.dimension not in first:
            first[p.dimension] = p
        else:
            later.setdefault(p.dimension, []).append(p.value)
    snapshots = {
        id(p)
        for dimension, p in first.items()
        if later.get(dimension)
        and p.value > INITIAL_SNAPSHOT_RATIO * statistics.median(later[dimension])
    }
    return [p for p in points if id(p) not in snapshots]


def collect_metrics(conn: Connection, contract: Contract) -> list[MetricPoint]:
    """Every metric the warehouse can give now; layers not built yet are skipped."""
    points: list[MetricPoint] = []
    for entity in contract.entities:
        points.extend(_entity_batches(conn, entity))
    points = _without_initial_snapshot(points)
    if relation_exists(conn, "staging.stg_crm__customers"):
        points.extend(_contact_validity(conn))
    if relation_exists(conn, "controls.ctl_leakage_daily"):
        points.extend(_leakage(conn))
    if relation_exists(conn, "kpis.kpi_network_element_daily") and relation_exists(
        conn, "staging.stg_oss__alarms"
    ):
        points.extend(_network(conn))
    return points
