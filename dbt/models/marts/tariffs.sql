-- Tariff rows as an SCD2 table: the row of a plan and service valid on a date d is the one with
-- valid_from <= d < valid_until (valid_to is exclusive; open-ended rows end at 9999-12-31).
select
    plan_code,
    service_type,
    plan_name,
    unit,
    unit_price,
    monthly_fee,
    currency,
    valid_from,
    valid_to,
    coalesce(valid_to, date '9999-12-31') as valid_until,
    valid_to is null as is_current
from {{ ref('stg_erp__tariff_plans') }}
