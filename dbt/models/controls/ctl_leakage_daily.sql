-- Leakage by day and by the dimensions RCA needs (network element, region, plan, service):
-- revenue at risk from each control next to the revenue the rating rule expects, and its share.
-- Leakage counts money not billed (unbilled usage, unbilled lines, under-rating, revenue
-- missing from the GL); over-billing (billed twice, over-rating, lines billed off-network) is
-- reported apart because it is a refund risk, not a leak.
with expected as (
    select
        event_date,
        coalesce(network_element_id, '(none)') as network_element_id,
        coalesce(region, '(none)') as region,
        coalesce(plan_code, '(none)') as plan_code,
        service_type,
        sum(expected_amount) as expected_revenue
    from {{ ref('cdrs') }}
    group by 1, 2, 3, 4, 5
),

exceptions as (
    select
        event_date,
        coalesce(network_element_id, '(none)') as network_element_id,
        coalesce(region, '(none)') as region,
        coalesce(plan_code, '(none)') as plan_code,
        coalesce(service_type, '(none)') as service_type,
        control,
        sum(case
            when reason in ('unbilled', 'active_on_network_not_billed', 'plan_mismatch')
                then amount
            when control = 'rating_accuracy' and amount < 0 then -amount
            when control = 'invoice_gl_tieout' and reason <> 'usage_split_unexplained'
                and amount > 0 then amount
            else 0
        end) as leakage_amount,
        sum(case
            when reason in ('billed_twice', 'billed_not_on_network', 'usage_without_cdr')
                then amount
            when control = 'rating_accuracy' and amount > 0 then amount
            else 0
        end) as overbilled_amount,
        sum(case when reason = 'billed_late' then amount else 0 end) as late_amount,
        count(*) as exceptions
    from {{ ref('ctl_exceptions') }}
    group by 1, 2, 3, 4, 5, 6
)

select
    x.event_date,
    x.network_element_id,
    x.region,
    x.plan_code,
    x.service_type,
    x.control,
    x.exceptions,
    x.leakage_amount,
    x.overbilled_amount,
    x.late_amount,
    e.expected_revenue,
    case
        when e.expected_revenue > 0 then round(100 * x.leakage_amount / e.expected_revenue, 4)
    end as leakage_pct
from exceptions as x
left join expected as e
    on e.event_date = x.event_date
    and e.network_element_id = x.network_element_id
    and e.region = x.region
    and e.plan_code = x.plan_code
    and e.service_type = x.service_type
