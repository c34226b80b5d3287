with current_rows as (
    {{ latest_versions('oss_provisioning', ['msisdn']) }}
)

select
    {{ phone_e164('msisdn') }} as msisdn,
    {{ phone_issue('msisdn') }} as msisdn_issue,
    nullif(btrim(msisdn), '') as msisdn_raw,
    btrim(imsi) as imsi,
    upper(btrim(plan_code)) as plan_code,
    status,
    activated_at,
    deactivated_at,
    updated_at,
    batch_id
from current_rows
