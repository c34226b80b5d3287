with current_rows as (
    {{ latest_versions('cdr_records', ['cdr_id']) }}
)

select
    btrim(cdr_id) as cdr_id,
    nullif(btrim(msisdn), '') as msisdn_raw,
    {{ phone_e164('msisdn') }} as msisdn,
    {{ phone_issue('msisdn') }} as msisdn_issue,
    nullif(btrim(called_number), '') as called_number_raw,
    {{ phone_e164('called_number') }} as called_number,
    {{ phone_issue('called_number') }} as called_number_issue,
    event_time,
    {{ local_date('event_time') }} as event_date,
    service_type,
    duration_s,
    volume_mb,
    call_result,
    nullif(btrim(cell_id), '') as cell_id,
    btrim(network_element_id) as network_element_id,
    replayed_rows,
    batch_id,
    batch_landed_at
from current_rows
