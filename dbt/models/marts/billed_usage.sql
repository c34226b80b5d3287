{{
    config(
        indexes=[{'columns': ['cdr_id']}, {'columns': ['usage_id'], 'unique': true}],
    )
}}
-- Billing's rated usage next to what the rating rule says it should be: the quantity from the
-- CDR it references and the unit price of the billed plan valid at the event date.
with usage as (
    select
        u.*,
        row_number() over (partition by u.cdr_id order by u.rated_at, u.usage_id) as billing_rank,
        count(*) over (partition by u.cdr_id) as times_billed
    from {{ ref('stg_billing__usage') }} as u
)

select
    u.usage_id,
    u.cdr_id,
    u.account_id,
    u.msisdn,
    u.event_time,
    {{ local_date('u.event_time') }} as event_date,
    {{ local_month('u.event_time') }} as period,
    u.service_type,
    u.quantity,
    u.unit,
    u.plan_code,
    u.rated_amount,
    u.rated_at,
    extract(epoch from u.rated_at - u.event_time) / 3600.0 as rating_delay_hours,
    u.billing_rank,
    u.times_billed,
    c.cdr_id is not null as has_cdr,
    c.network_element_id,
    c.core_element_id,
    c.region,
    c.billable_quantity as expected_quantity,
    t.unit_price as expected_unit_price,
    {{ rated_amount('c.billable_quantity', 't.unit_price') }} as expected_amount
from usage as u
left join {{ ref('cdrs') }} as c on c.cdr_id = u.cdr_id
left join {{ ref('tariffs') }} as t
    on t.plan_code = u.plan_code
    and t.service_type = u.service_type
    and {{ tariff_valid_on('t', local_date('u.event_time')) }}
