-- CRM subscriptions (the commercial view of a line) with their customer and the plan's fee.
select
    s.subscription_id,
    s.customer_id,
    c.segment,
    s.msisdn,
    s.msisdn_raw,
    s.plan_code,
    s.status,
    s.start_date,
    s.end_date,
    s.updated_at
from {{ ref('stg_crm__subscriptions') }} as s
left join {{ ref('stg_crm__customers') }} as c using (customer_id)
