with current_rows as (
    {{ latest_versions('erp_tariff_plans', ['plan_code', 'service_type', 'valid_from']) }}
)

select
    upper(btrim(plan_code)) as plan_code,
    btrim(plan_name) as plan_name,
    service_type,
    unit,
    unit_price,
    monthly_fee,
    upper(btrim(currency)) as currency,
    valid_from,
    valid_to,
    batch_id
from current_rows
