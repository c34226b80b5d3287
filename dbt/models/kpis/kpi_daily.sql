-- Business KPIs per day (the seed's /kpi/calculate): active subscribers (lines active on the
-- network that day), revenue by stream (usage billed for the day's events; recurring fees
-- spread evenly over the days of their month) and ARPU (revenue per active subscriber).
with days as (
    select generate_series(min(event_date), max(event_date), interval '1 day')::date as day
    from {{ ref('cdrs') }}
),

active_lines as (
    select
        d.day,
        p.msisdn,
        p.plan_code
    from days as d
    inner join {{ ref('stg_oss__provisioning') }} as p
        on {{ local_date('p.activated_at') }} <= d.day
        and (p.deactivated_at is null or {{ local_date('p.deactivated_at') }} > d.day)
    where p.status <> 'deprovisioned' or p.deactivated_at is not null
),

fees as (
    select distinct on (plan_code) plan_code, monthly_fee
    from {{ ref('tariffs') }}
    order by plan_code, valid_from desc
),

recurring as (
    select
        a.day,
        count(*) as active_subscribers,
        sum(
            f.monthly_fee
            / extract(day from date_trunc('month', a.day) + interval '1 month' - interval '1 day')
        ) as recurring_revenue
    from active_lines as a
    left join fees as f using (plan_code)
    group by a.day
),

usage as (
    select
        event_date as day,
        sum(rated_amount) filter (where service_type = 'voice') as voice_revenue,
        sum(rated_amount) filter (where service_type = 'sms') as sms_revenue,
        sum(rated_amount) filter (where service_type = 'data') as data_revenue
    from {{ ref('billed_usage') }}
    group by event_date
)

select
    d.day,
    coalesce(r.active_subscribers, 0) as active_subscribers,
    round(coalesce(u.voice_revenue, 0), 4) as voice_revenue,
    round(coalesce(u.sms_revenue, 0), 4) as sms_revenue,
    round(coalesce(u.data_revenue, 0), 4) as data_revenue,
    round(coalesce(r.recurring_revenue, 0), 4) as recurring_revenue,
    round(
        coalesce(u.voice_revenue, 0) + coalesce(u.sms_revenue, 0) + coalesce(u.data_revenue, 0)
        + coalesce(r.recurring_revenue, 0), 4
    ) as total_revenue,
    round(
        (coalesce(u.voice_revenue, 0) + coalesce(u.sms_revenue, 0) + coalesce(u.data_revenue, 0)
        + coalesce(r.recurring_revenue, 0)) / nullif(r.active_subscribers, 0), 4
    ) as arpu
from days as d
left join recurring as r using (day)
left join usage as u using (day)
