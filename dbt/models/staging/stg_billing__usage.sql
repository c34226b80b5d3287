with current_rows as (
    {{ latest_versions('billing_usage', ['usage_id']) }}
)

select
    btrim(usage_id) as usage_id,
    btrim(cdr_id) as cdr_id,
    btrim(account_id) as account_id,
    nullif(btrim(msisdn), '') as msisdn_raw,
    {{ phone_e164('msisdn') }} as msisdn,
    {{ phone_issue('msisdn') }} as msisdn_issue,
    event_time,
    service_type,
    quantity,
    unit,
    upper(btrim(plan_code)) as plan_code,
    rated_amount,
    rated_at,
    replayed_rows,
    batch_id
from current_rows
