-- Every control's exceptions in one shape: what `sdp score`, the API and RCA read.
-- revenue_stream is the GL stream of an invoice <-> GL exception (recurring, voice, sms, data):
-- its place, as the element, plan or region is another control's.
select
    'usage_completeness' as control,
    reason,
    cdr_id as record_key,
    msisdn,
    event_date,
    network_element_id,
    region,
    plan_code,
    service_type,
    amount,
    detail,
    null::text as revenue_stream
from {{ ref('ctl_usage_completeness') }}

union all

select
    'rating_accuracy', reason, usage_id, msisdn, event_date, network_element_id, region,
    plan_code, service_type, amount, detail, null
from {{ ref('ctl_rating_accuracy') }}

union all

select
    'subscription_reconciliation', reason, msisdn, msisdn, event_date, null, null,
    plan_code, null, amount, detail, null
from {{ ref('ctl_subscription_reconciliation') }}

union all

select
    'invoice_gl_tieout', reason, period || '/' || revenue_stream, null, event_date, null, null,
    null, case when revenue_stream in ('voice', 'sms', 'data') then revenue_stream end, amount,
    detail, revenue_stream
from {{ ref('ctl_invoice_gl_tieout') }}
