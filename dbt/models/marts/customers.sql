-- CRM customers, cleaned (trimmed names, lower-cased emails with a validity flag, phones in
-- E.164). Until the golden customer exists, a CRM record is a customer.
select
    customer_id,
    first_name,
    last_name,
    first_name || ' ' || last_name as full_name,
    date_of_birth,
    email,
    email_is_valid,
    phone_raw,
    phone_e164,
    phone_e164 is not null as phone_is_valid,
    address_line,
    city,
    postcode,
    segment,
    created_at,
    updated_at
from {{ ref('stg_crm__customers') }}
