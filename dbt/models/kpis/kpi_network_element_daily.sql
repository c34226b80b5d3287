-- Network KPIs per core element and day (the seed's /kpis): CDR count, answer-seizure ratio
-- (answered / voice attempts), network effectiveness ratio (attempts the network completed:
-- answered, busy or no answer / attempts), drop rate (dropped / connected calls), data volume.
select
    event_date,
    core_element_id as network_element_id,
    region,
    count(*) as cdr_count,
    count(*) filter (where service_type = 'voice') as voice_attempts,
    count(*) filter (where service_type = 'sms') as sms_count,
    count(*) filter (where service_type = 'data') as data_sessions,
    round(
        count(*) filter (where service_type = 'voice' and call_result = 'answered')::numeric
        / nullif(count(*) filter (where service_type = 'voice'), 0), 4
    ) as answer_seizure_ratio,
    round(
        count(*) filter (
            where service_type = 'voice' and call_result in ('answered', 'busy', 'no_answer')
        )::numeric / nullif(count(*) filter (where service_type = 'voice'), 0), 4
    ) as network_effectiveness_ratio,
    round(
        count(*) filter (where service_type = 'voice' and call_result = 'dropped')::numeric
        / nullif(count(*) filter (
            where service_type = 'voice' and call_result in ('answered', 'dropped')
        ), 0), 4
    ) as drop_rate,
    coalesce(sum(volume_mb) filter (where service_type = 'data'), 0) as data_volume_mb
from {{ ref('cdrs') }}
group by 1, 2, 3
