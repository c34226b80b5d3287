{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_date',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['event_date']},
            {'columns': ['cdr_id'], 'unique': true},
            {'columns': ['msisdn']},
        ],
        tags=['partitioned'],
    )
}}
-- One row per CDR (replays removed, counted in replayed_rows), placed in the topology and
-- priced by the rating rule with the subscriber's plan valid at the event date. Built for the
-- days Dagster passes (vars partition_start .. partition_end); the whole history otherwise.

with records as (
    select *
    from {{ ref('stg_cdr__records') }}
    {% if var('partition_start') %}
        where event_date between '{{ var("partition_start") }}'::date
            and '{{ var("partition_end") or var("partition_start") }}'::date
    {% endif %}
),

plans as (
    select
        r.cdr_id,
        lp.plan_code,
        row_number() over (
            partition by r.cdr_id order by lp.plan_source, lp.valid_from desc
        ) as pick
    from records as r
    inner join {{ ref('line_plans') }} as lp
        on lp.msisdn = r.msisdn
        and lp.valid_from <= r.event_date
        and r.event_date < lp.valid_until
),

priced as (
    select
        r.*,
        p.plan_code,
        {{ billable_quantity('r.service_type', 'r.call_result', 'r.duration_s', 'r.volume_mb') }}
            as billable_quantity
    from records as r
    left join plans as p on p.cdr_id = r.cdr_id and p.pick = 1
)

select
    c.cdr_id,
    c.event_time,
    c.event_date,
    c.msisdn,
    c.called_number,
    c.service_type,
    c.call_result,
    c.duration_s,
    c.volume_mb,
    c.cell_id,
    c.network_element_id,
    ne.core_element_id,
    ne.region,
    c.plan_code,
    c.billable_quantity,
    t.unit_price,
    {{ rated_amount('c.billable_quantity', 't.unit_price') }} as expected_amount,
    c.replayed_rows,
    c.batch_id,
    c.batch_landed_at
from priced as c
left join {{ ref('network_elements') }} as ne on ne.network_element_id = c.network_element_id
left join {{ ref('tariffs') }} as t
    on t.plan_code = c.plan_code
    and t.service_type = c.service_type
    and {{ tariff_valid_on('t', 'c.event_date') }}
