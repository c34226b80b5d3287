"""What RCA reads from the warehouse, as the plain rows `rca.findings.Observations` holds.

Lines carry no region in the subscription control: a line's region is where its traffic is
(the region of the elements its CDRs pass); a line with no traffic takes the region its billing
account's city has for the lines that do use the network. Both are learnt from the data.
"""

from __future__ import annotations

from psycopg import Connection
from psycopg.rows import dict_row

from rca.findings import Observations
from sdp.db import relation_exists

EXCEPTIONS = """
with line_region as (
    select msisdn, mode() within group (order by region) as region
    from marts.cdrs where region is not null group by msisdn
),
account_city as (
    select m.msisdn, a.city
    from staging.stg_billing__account_msisdns as m
    inner join staging.stg_billing__accounts as a using (account_id)
),
city_region as (
    select ac.city, mode() within group (order by lr.region) as region
    from account_city as ac inner join line_region as lr using (msisdn)
    group by ac.city
)
select
    e.control, e.reason, e.event_date, e.network_element_id,
    coalesce(e.region, lr.region, cr.region) as region,
    e.plan_code, e.service_type, e.revenue_stream, e.amount, e.msisdn
from controls.ctl_exceptions as e
left join line_region as lr on lr.msisdn = e.msisdn
left join account_city as ac on ac.msisdn = e.msisdn and lr.region is null
left join city_region as cr on cr.city = ac.city
"""
EXPECTED = """
select event_date, network_element_id, region, plan_code, service_type,
       sum(expected_amount) as expected_revenue
from marts.cdrs group by 1, 2, 3, 4, 5
"""
HOURLY = """
select date_trunc('hour', event_time) as hour, network_element_id, count(*) as cdrs
from marts.cdrs group by 1, 2
"""
ALARMS = """
select alarm_id, network_element_id, severity, alarm_type, raised_at, cleared_at
from staging.stg_oss__alarms
"""
ELEMENTS = """
select network_element_id, region, site_id, parent_element_id from marts.network_elements
"""
ANOMALIES = """
select metric, dimension, day, observed, expected, score, method from quality.anomalies
"""
LOADS = """
select l.batch_id, l.source, l.entity, l.partition_date, l.landed_at, l.rows_in,
       l.rows_rejected, l.method, l.extra_columns, l.missing_columns,
       coalesce(e.elements, '{}') as elements
from raw._loads as l
left join (
    select batch_id, array_agg(distinct network_element_id) as elements
    from raw.cdr_records group by batch_id
) as e using (batch_id)
where l.status = 'loaded'
"""


def observe(conn: Connection) -> Observations:
    """Everything the analysis needs; an error names the layer that is not built yet."""
    needed = ("controls.ctl_exceptions", "marts.cdrs", "marts.network_elements")
    missing = [r for r in needed if not relation_exists(conn, r)]
    if missing:
        raise LookupError(f"RCA needs {', '.join(missing)}: materialize the graph first")

    def rows(query: str) -> list[dict]:
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query).fetchall()

    return Observations(
        exceptions=rows(EXCEPTIONS),
        expected=rows(EXPECTED),
        hourly=rows(HOURLY),
        alarms=rows(ALARMS),
        elements=rows(ELEMENTS),
        loads=rows(LOADS),
        # quality runs beside RCA: without its anomalies the other symptoms still stand
        anomalies=rows(ANOMALIES),
    )


ELEMENT_DAYS = """
with alarms as (
    select network_element_id, (raised_at at time zone 'UTC')::date as event_date,
           count(*) filter (where severity = 'critical') as critical_alarms,
           count(*) filter (where severity = 'major') as major_alarms,
           count(*) filter (where severity = 'minor') as minor_alarms,
           count(*) filter (where severity = 'warning') as warning_alarms
    from staging.stg_oss__alarms group by 1, 2
)
select k.network_element_id, k.event_date, ne.element_type, k.cdr_count, k.drop_rate,
       coalesce(a.critical_alarms, 0) as critical_alarms,
       coalesce(a.major_alarms, 0) as major_alarms,
       coalesce(a.minor_alarms, 0) as minor_alarms,
       coalesce(a.warning_alarms, 0) as warning_alarms
from kpis.kpi_network_element_daily as k
inner join marts.network_elements as ne using (network_element_id)
left join alarms as a using (network_element_id, event_date)
"""


def element_days(conn: Connection) -> list[dict]:
    """KPIs and alarm counts per core element and day: what the degradation forecast learns."""
    if not relation_exists(conn, "kpis.kpi_network_element_daily"):
        raise LookupError("the forecast needs kpis.kpi_network_element_daily: build the graph")
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(ELEMENT_DAYS).fetchall()
