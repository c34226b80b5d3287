with current_rows as (
    {{ latest_versions('crm_subscriptions', ['subscription_id']) }}
)

select
    btrim(subscription_id) as subscription_id,
    btrim(customer_id) as customer_id,
    nullif(btrim(msisdn), '') as msisdn_raw,
    {{ phone_e164('msisdn') }} as msisdn,
    {{ phone_issue('msisdn') }} as msisdn_issue,
    upper(btrim(plan_code)) as plan_code,
    status,
    start_date,
    end_date,
    updated_at,
    replayed_rows,
    superseded_rows,
    batch_id
from current_rows
