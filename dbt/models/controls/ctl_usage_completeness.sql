-- Control: every billable CDR billed exactly once, on time. One row per exception.
--   unbilled           billable CDR with no usage row; amount = what the rule would charge
--   billed_twice       each usage row after the first for a CDR; amount = what it charged again
--   billed_late        the first usage row rated more than late_billing_hours after the event;
--                      amount = the amount billed late (deferred revenue, not lost)
--   usage_without_cdr  usage that references no CDR; amount = what it charged
with cdrs as (
    select * from {{ ref('cdrs') }}
),

usage as (
    select * from {{ ref('billed_usage') }}
),

unbilled as (
    select
        'unbilled' as reason,
        c.cdr_id,
        null::text as usage_id,
        c.msisdn,
        c.event_time,
        c.event_date,
        c.network_element_id,
        c.region,
        c.plan_code,
        c.service_type,
        c.expected_amount as amount,
        'billable CDR (' || c.service_type || ', ' || c.call_result
            || ') has no billing usage row' as detail
    from cdrs as c
    where c.billable_quantity is not null
        and not exists (select 1 from usage as u where u.cdr_id = c.cdr_id)
),

billed_again as (
    select
        'billed_twice' as reason,
        u.cdr_id,
        u.usage_id,
        u.msisdn,
        u.event_time,
        u.event_date,
        u.network_element_id,
        u.region,
        u.plan_code,
        u.service_type,
        u.rated_amount as amount,
        'usage row ' || u.billing_rank || ' of ' || u.times_billed || ' for the same CDR' as detail
    from usage as u
    where u.billing_rank > 1
),

late as (
    select
        'billed_late' as reason,
        u.cdr_id,
        u.usage_id,
        u.msisdn,
        u.event_time,
        u.event_date,
        u.network_element_id,
        u.region,
        u.plan_code,
        u.service_type,
        u.rated_amount as amount,
        'rated ' || round(u.rating_delay_hours::numeric, 1) || ' h after the event' as detail
    from usage as u
    where u.billing_rank = 1
        and u.rated_at > u.event_time + interval '1 hour' * {{ var('late_billing_hours') }}
),

orphans as (
    select
        'usage_without_cdr' as reason,
        u.cdr_id,
        u.usage_id,
        u.msisdn,
        u.event_time,
        u.event_date,
        u.network_element_id,
        u.region,
        u.plan_code,
        u.service_type,
        u.rated_amount as amount,
        'billing charged a CDR the network never recorded' as detail
    from usage as u
    where not u.has_cdr
)

select * from unbilled
union all
select * from billed_again
union all
select * from late
union all
select * from orphans
