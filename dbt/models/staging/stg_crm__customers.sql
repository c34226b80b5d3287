with current_rows as (
    {{ latest_versions('crm_customers', ['customer_id']) }}
)

select
    btrim(customer_id) as customer_id,
    regexp_replace(btrim(first_name), '\s+', ' ', 'g') as first_name,
    regexp_replace(btrim(last_name), '\s+', ' ', 'g') as last_name,
    date_of_birth,
    {{ normalize_email('email') }} as email,
    {{ email_is_valid('email') }} as email_is_valid,
    nullif(btrim(phone), '') as phone_raw,
    {{ phone_e164('phone') }} as phone_e164,
    {{ phone_issue('phone') }} as phone_issue,
    nullif(regexp_replace(btrim(address_line), '\s+', ' ', 'g'), '') as address_line,
    nullif(initcap(btrim(city)), '') as city,
    nullif(upper(regexp_replace(btrim(postcode), '\s+', ' ', 'g')), '') as postcode,
    segment,
    created_at,
    updated_at,
    replayed_rows,
    superseded_rows,
    batch_id,
    batch_landed_at
from current_rows
