with current_rows as (
    {{ latest_versions('erp_gl_revenue', ['posting_id']) }}
)

select
    btrim(posting_id) as posting_id,
    posting_date,
    btrim(period) as period,
    btrim(gl_account) as gl_account,
    revenue_stream,
    amount,
    upper(btrim(currency)) as currency,
    batch_id
from current_rows
