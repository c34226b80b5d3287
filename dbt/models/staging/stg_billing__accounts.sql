with current_rows as (
    {{ latest_versions('billing_accounts', ['account_id']) }}
)

select
    btrim(account_id) as account_id,
    regexp_replace(btrim(holder_name), '\s+', ' ', 'g') as holder_name,
    {{ normalize_email('email') }} as email,
    {{ email_is_valid('email') }} as email_is_valid,
    nullif(btrim(phone), '') as phone_raw,
    {{ phone_e164('phone') }} as phone_e164,
    {{ phone_issue('phone') }} as phone_issue,
    nullif(regexp_replace(btrim(billing_address), '\s+', ' ', 'g'), '') as billing_address,
    nullif(initcap(btrim(city)), '') as city,
    nullif(upper(regexp_replace(btrim(postcode), '\s+', ' ', 'g')), '') as postcode,
    status,
    opened_at,
    msisdns as msisdns_raw,
    replayed_rows,
    superseded_rows,
    batch_id
from current_rows
