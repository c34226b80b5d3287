-- One row per line billed on an account: billing keeps them as a ';'-separated list.
select
    a.account_id,
    a.status as account_status,
    btrim(m.msisdn_raw) as msisdn_raw,
    {{ phone_e164('m.msisdn_raw') }} as msisdn,
    {{ phone_issue('m.msisdn_raw') }} as msisdn_issue
from {{ ref('stg_billing__accounts') }} as a
cross join lateral unnest(string_to_array(a.msisdns_raw, ';')) as m (msisdn_raw)
where nullif(btrim(m.msisdn_raw), '') is not null
