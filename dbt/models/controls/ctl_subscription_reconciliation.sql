-- Control: the network (OSS provisioning), CRM and billing agree on every line. One row per
-- exception. Fees are owed per calendar month of the reporting window a line is active in.
--   active_on_network_not_billed  OSS provisions it (active or barred), no open billing account
--                                 carries it;
--                                 amount = OSS plan fee x active months (revenue leaking)
--   billed_not_on_network         billing carries it, OSS does not serve it;
--                                 amount = billed (CRM) plan fee x months (refund risk)
--   plan_mismatch                 OSS plan differs from CRM's; amount = (OSS fee - CRM fee) x months
--   status_mismatch               CRM and OSS disagree on whether the line is live; amount 0
--   not_in_crm                    OSS serves a line CRM does not know; amount 0 (money is on the
--                                 billing exception)
-- Each exception names the customer behind the line: the CRM subscriber, its golden customer
-- (Zingg's match, reviewed) and the billing accounts that golden customer holds (Zingg's link),
-- so an unbilled line points at the account it belongs on, whichever duplicate CRM record owns
-- the subscription.
with months as (
    select * from {{ ref('reporting_window') }}
),

oss as (
    select
        msisdn,
        plan_code,
        status,
        {{ local_date('activated_at') }} as active_from,
        coalesce({{ local_date('deactivated_at') }}, date '9999-12-31') as active_until
    from {{ ref('stg_oss__provisioning') }}
    where msisdn is not null
),

crm as (
    select distinct on (msisdn)
        msisdn,
        customer_id,
        plan_code,
        status,
        start_date,
        coalesce(end_date, date '9999-12-31') as end_date
    from {{ ref('stg_crm__subscriptions') }}
    where msisdn is not null
    order by msisdn, (status = 'terminated'), start_date desc
),

billed as (
    select distinct on (msisdn) msisdn, account_id
    from {{ ref('stg_billing__account_msisdns') }}
    where msisdn is not null and account_status <> 'closed'
    order by msisdn, account_status = 'open' desc, account_id
),

golden as (
    select customer_id, golden_id, account_ids
    from {{ ref('golden_customers') }}
),

fees as (
    select distinct on (plan_code)
        plan_code, monthly_fee
    from {{ ref('tariffs') }}
    order by plan_code, valid_from desc
),

oss_months as (
    select
        o.msisdn,
        count(m.period) as active_months
    from oss as o
    inner join months as m
        on o.active_from <= least(m.month_end, m.window_end)
        and o.active_until >= greatest(m.month_start, m.window_start)
    where o.status <> 'deprovisioned'
    group by o.msisdn
),

crm_months as (
    select
        c.msisdn,
        count(m.period) as active_months
    from crm as c
    inner join months as m
        on c.start_date <= least(m.month_end, m.window_end)
        and c.end_date >= greatest(m.month_start, m.window_start)
    where c.status <> 'terminated'
    group by c.msisdn
),

lines as (
    select
        coalesce(o.msisdn, c.msisdn, b.msisdn) as msisdn,
        -- a barred (suspended) line is still provisioned, and still billed
        o.msisdn is not null and o.status <> 'deprovisioned' as on_network,
        o.status as oss_status,
        o.plan_code as oss_plan,
        c.msisdn is not null as in_crm,
        c.customer_id,
        g.golden_id,
        g.account_ids as golden_account_ids,
        b.account_id as billing_account_id,
        c.status as crm_status,
        c.plan_code as crm_plan,
        b.msisdn is not null as in_billing,
        coalesce(om.active_months, 0) as oss_months,
        coalesce(cm.active_months, 0) as crm_months
    from oss as o
    full outer join crm as c on c.msisdn = o.msisdn
    full outer join billed as b on b.msisdn = coalesce(o.msisdn, c.msisdn)
    left join oss_months as om on om.msisdn = o.msisdn
    left join crm_months as cm on cm.msisdn = c.msisdn
    left join golden as g on g.customer_id = c.customer_id
),

exceptions as (
    select
        'active_on_network_not_billed' as reason, l.*,
        f.monthly_fee * l.oss_months as amount,
        l.oss_plan as plan_code,
        'provisioned on ' || l.oss_plan || ', on no open billing account'
        || case
            when cardinality(l.golden_account_ids) > 0
                then '; customer ' || l.golden_id || ' holds '
                    || array_to_string(l.golden_account_ids, ', ')
            else ''
        end as detail
    from lines as l
    left join fees as f on f.plan_code = l.oss_plan
    where l.on_network and not l.in_billing

    union all

    select
        'billed_not_on_network', l.*,
        f.monthly_fee * l.crm_months,
        l.crm_plan,
        'billed (' || coalesce(l.crm_plan, 'no CRM plan') || ') but not active on the network'
    from lines as l
    left join fees as f on f.plan_code = l.crm_plan
    where l.in_billing and not l.on_network

    union all

    select
        'plan_mismatch', l.*,
        (fo.monthly_fee - fc.monthly_fee) * least(l.oss_months, l.crm_months),
        l.oss_plan,
        'network serves ' || l.oss_plan || ', CRM sells ' || l.crm_plan
    from lines as l
    inner join fees as fo on fo.plan_code = l.oss_plan
    inner join fees as fc on fc.plan_code = l.crm_plan
    where l.on_network and l.in_crm and l.oss_plan <> l.crm_plan

    union all

    select
        'status_mismatch', l.*,
        0::numeric,
        l.crm_plan,
        'CRM says ' || l.crm_status || ', the network says ' || l.oss_status
    from lines as l
    where l.in_crm and l.oss_status is not null
        and (l.crm_status = 'active') <> (l.oss_status = 'active')

    union all

    select
        'not_in_crm', l.*,
        0::numeric,
        l.oss_plan,
        'active on the network, unknown to CRM'
    from lines as l
    where l.on_network and not l.in_crm
)

select
    e.reason,
    e.msisdn,
    e.plan_code,
    e.oss_plan,
    e.crm_plan,
    e.oss_status,
    e.crm_status,
    e.on_network,
    e.in_crm,
    e.in_billing,
    e.customer_id,
    e.golden_id,
    e.golden_account_ids,
    e.billing_account_id,
    e.amount,
    e.detail,
    m.window_start as event_date
from exceptions as e
cross join (select distinct window_start from months) as m
