-- The plan of every line known to CRM or the network, with its validity: CRM's subscription is
-- the commercial truth, OSS provisioning stands in for lines CRM does not know.
with crm as (
    select
        msisdn,
        plan_code,
        start_date as valid_from,
        coalesce(end_date, date '9999-12-31') as valid_until,
        'crm' as plan_source
    from {{ ref('stg_crm__subscriptions') }}
    where msisdn is not null
),

oss_only as (
    select
        p.msisdn,
        p.plan_code,
        {{ local_date('p.activated_at') }} as valid_from,
        coalesce({{ local_date('p.deactivated_at') }}, date '9999-12-31') as valid_until,
        'oss' as plan_source
    from {{ ref('stg_oss__provisioning') }} as p
    where p.msisdn is not null
        and not exists (select 1 from crm where crm.msisdn = p.msisdn)
)

select * from crm
union all
select * from oss_only
