with current_rows as (
    {{ latest_versions('oss_alarms', ['alarm_id']) }}
)

select
    btrim(alarm_id) as alarm_id,
    btrim(network_element_id) as network_element_id,
    severity,
    btrim(alarm_type) as alarm_type,
    raised_at,
    cleared_at,
    description,
    batch_id
from current_rows
