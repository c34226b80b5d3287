select
    i.invoice_id,
    i.account_id,
    i.period,
    i.issue_date,
    i.recurring_amount,
    i.usage_amount,
    i.tax_amount,
    i.total_amount,
    i.currency,
    i.recurring_amount + i.usage_amount + i.tax_amount - i.total_amount as total_difference
from {{ ref('stg_billing__invoices') }} as i
