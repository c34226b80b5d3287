-- Control: each usage row charged what the rating rule says, with the billed plan's tariff
-- valid at the event date. One row per exception; amount = billed minus expected (signed:
-- positive is over-billing).
select
    case
        when u.expected_unit_price is null then 'no_tariff'
        when u.quantity <> u.expected_quantity then 'wrong_quantity'
        else 'wrong_amount'
    end as reason,
    u.cdr_id,
    u.usage_id,
    u.msisdn,
    u.event_time,
    u.event_date,
    u.network_element_id,
    u.region,
    u.plan_code,
    u.service_type,
    u.quantity,
    u.expected_quantity,
    u.rated_amount,
    u.expected_amount,
    u.rated_amount - coalesce(u.expected_amount, 0) as amount,
    case
        when u.expected_unit_price is null
            then 'no ' || u.plan_code || ' ' || u.service_type || ' tariff on ' || u.event_date
        else 'billed ' || u.rated_amount || ' for ' || u.quantity || ' ' || u.unit
            || '; the rule gives ' || u.expected_amount || ' at ' || u.expected_unit_price
    end as detail
from {{ ref('billed_usage') }} as u
where u.has_cdr
    and u.billing_rank = 1
    and (
        u.expected_unit_price is null
        or u.quantity <> u.expected_quantity
        or u.rated_amount <> u.expected_amount
    )
