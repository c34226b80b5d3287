with current_rows as (
    {{ latest_versions('billing_invoices', ['invoice_id']) }}
)

select
    btrim(invoice_id) as invoice_id,
    btrim(account_id) as account_id,
    btrim(period) as period,
    issue_date,
    recurring_amount,
    usage_amount,
    tax_amount,
    total_amount,
    upper(btrim(currency)) as currency,
    batch_id
from current_rows
