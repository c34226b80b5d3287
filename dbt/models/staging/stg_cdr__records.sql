with current_rows as (
    {{ latest_versions('cdr_records', ['cdr_id']) }}
)

select
    btrim(cdr_id) as cdr_id,
    {{ normalize_msisdn('msisdn') }} as msisdn,
    {{ normalize_msisdn('called_number') }} as called_number,
    event_time,
    (event_time at time zone 'UTC')::date as event_date,
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
