-- Control: what the invoices bill ties out with what the GL posts, per period and revenue
-- stream (a stream the GL posts in several postings, e.g. one per segment, is their sum).
-- Invoices carry usage as one amount, so its split by stream comes from the usage rows the
-- period's bill run invoices, by the operator's convention (var invoice_usage_by):
--   event_time  events of the period rated before the bill run's cut-off
--               (bill_run_cutoff_hour, local, on the issue date)
--   rated_at    usage rated in the period (local month), whatever its event's day
-- and that split is checked against the invoices' usage total. One row per exception;
-- amount = invoiced minus posted (positive: revenue missing from the GL).
with runs as (
    select period, min(issue_date) as issue_date
    from {{ ref('invoices') }}
    group by period
),

invoiced_recurring as (
    select period, 'recurring' as revenue_stream, sum(recurring_amount) as invoiced
    from {{ ref('invoices') }}
    group by period
),

{%- set usage_by = var('invoice_usage_by') %}
{%- if execute and usage_by not in ('event_time', 'rated_at') %}
    {{ exceptions.raise_compiler_error(
        "var invoice_usage_by must be event_time or rated_at, not " ~ usage_by
    ) }}
{%- endif %}

usage_by_run as (
    {%- if usage_by == 'rated_at' %}
    select {{ local_month('u.rated_at') }} as period, u.service_type, u.rated_amount
    from {{ ref('billed_usage') }} as u
    {%- else %}
    select u.period, u.service_type, u.rated_amount
    from {{ ref('billed_usage') }} as u
    inner join runs as r on r.period = u.period
    where u.rated_at < r.issue_date + interval '1 hour' * {{ var('bill_run_cutoff_hour') }}
    {%- endif %}
),

invoiced_usage as (
    select u.period, u.service_type as revenue_stream, sum(u.rated_amount) as invoiced
    from usage_by_run as u
    inner join runs as r on r.period = u.period
    group by u.period, u.service_type
),

invoiced as (
    select * from invoiced_recurring
    union all
    select * from invoiced_usage
),

posted as (
    select period, revenue_stream, sum(amount) as posted
    from {{ ref('stg_erp__gl_revenue') }}
    group by period, revenue_stream
),

streams as (
    select
        coalesce(i.period, p.period) as period,
        coalesce(i.revenue_stream, p.revenue_stream) as revenue_stream,
        coalesce(i.invoiced, 0) as invoiced,
        p.posted
    from invoiced as i
    full outer join posted as p using (period, revenue_stream)
),

usage_split as (
    select
        r.period,
        coalesce(sum(i.usage_amount), 0) as invoice_usage,
        coalesce((
            select sum(u.invoiced) from invoiced_usage as u where u.period = r.period
        ), 0) as usage_rows
    from runs as r
    left join {{ ref('invoices') }} as i on i.period = r.period
    group by r.period
)

select
    case when s.posted is null then 'not_posted' else 'amount_differs' end as reason,
    s.period,
    s.revenue_stream,
    s.invoiced,
    s.posted,
    s.invoiced - coalesce(s.posted, 0) as amount,
    to_date(s.period || '-01', 'YYYY-MM-DD') as event_date,
    case
        when s.posted is null then 'invoiced ' || s.invoiced || ', nothing posted'
        else 'invoiced ' || s.invoiced || ', posted ' || s.posted
    end as detail
from streams as s
where s.posted is null or s.invoiced <> s.posted

union all

select
    'usage_split_unexplained',
    u.period,
    'usage',
    u.invoice_usage,
    u.usage_rows,
    u.invoice_usage - u.usage_rows,
    to_date(u.period || '-01', 'YYYY-MM-DD'),
    'invoices bill ' || u.invoice_usage || ' of usage, the usage rows before the cut-off add to '
        || u.usage_rows
from usage_split as u
where u.invoice_usage <> u.usage_rows
