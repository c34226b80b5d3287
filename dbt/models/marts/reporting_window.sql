-- The days the warehouse holds traffic for, and the calendar months they touch: recurring
-- fees are owed per month a line is active in (no proration), so reconciliations count months.
with bounds as (
    select min(event_date) as window_start, max(event_date) as window_end
    from {{ ref('stg_cdr__records') }}
)

select
    b.window_start,
    b.window_end,
    m.month_start::date as month_start,
    (m.month_start + interval '1 month' - interval '1 day')::date as month_end,
    to_char(m.month_start, 'YYYY-MM') as period
from bounds as b
cross join lateral generate_series(
    date_trunc('month', b.window_start), date_trunc('month', b.window_end), interval '1 month'
) as m (month_start)
where b.window_start is not null
