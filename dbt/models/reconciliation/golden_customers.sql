{{ config(indexes=[{'columns': ['customer_id'], 'unique': true}, {'columns': ['golden_id']}]) }}
-- One row per CRM customer with the golden customer it belongs to, and the golden record's
-- attributes chosen by survivorship.
--
-- Identity: CRM records Zingg puts in one cluster are one person, except pairs a reviewer
-- rejected (the later record leaves the cluster) plus pairs a reviewer confirmed (their
-- groups merge). golden_id = 'G-' || the smallest customer_id of the group, so it survives
-- re-runs even though Zingg's cluster ids do not.
--
-- Survivorship, per attribute, among the group's records:
--   names, date of birth, address, city, postcode: the first-created record that has one (the
--   customer of record; duplicates are typed later, typos included)
--   email: the most recently updated valid email, else the most recent one
--   phone: the most recently updated number that normalizes to E.164
--   segment: business wins over consumer (a business relationship is the one billed)
--   billing accounts: every account linked to any record of the group (Zingg's links that
--   reached the acceptance floor, less rejected pairs, plus confirmed pairs)
with recursive customers as (
    select * from {{ ref('stg_crm__customers') }}
),

rejected as (
    select left_id, right_id
    from {{ source('reconciliation', 'match_reviews') }}
    where model = 'match' and decision = 'rejected'
),

clustered as (
    select
        c.customer_id,
        coalesce(m.z_cluster, 'solo:' || c.customer_id) as z_cluster
    from customers as c
    left join {{ source('reconciliation', 'customer_matches') }} as m using (customer_id)
),

-- a record a reviewer rejected against an earlier member of its cluster stands alone
split as (
    select
        c.customer_id,
        case
            when exists (
                select 1
                from rejected as r
                inner join clustered as other on other.customer_id = r.left_id
                where r.right_id = c.customer_id and other.z_cluster = c.z_cluster
            ) then 'solo:' || c.customer_id
            else c.z_cluster
        end as z_cluster
    from clustered as c
),

stars as (
    select s.customer_id as a, min(s2.customer_id) as b
    from split as s
    inner join split as s2 on s2.z_cluster = s.z_cluster
    group by s.customer_id
),

edges as (
    -- every record to and from its group's first record, and reviewer-confirmed pairs both ways
    select a, b from stars
    union
    select b, a from stars
    union
    select left_id, right_id
    from {{ source('reconciliation', 'match_reviews') }}
    where model = 'match' and decision = 'confirmed'
    union
    select right_id, left_id
    from {{ source('reconciliation', 'match_reviews') }}
    where model = 'match' and decision = 'confirmed'
),

reach (customer_id, member) as (
    select customer_id, customer_id from customers
    union
    select r.customer_id, e.b
    from reach as r
    inner join edges as e on e.a = r.member
),

groups as (
    select customer_id, 'G-' || min(member) as golden_id
    from reach
    group by customer_id
),

members as (
    select g.golden_id, c.*
    from groups as g
    inner join customers as c using (customer_id)
),

survivors as (
    select
        golden_id,
        (array_agg(first_name order by created_at, customer_id) filter (where first_name is not null))[1]
            as golden_first_name,
        (array_agg(last_name order by created_at, customer_id) filter (where last_name is not null))[1]
            as golden_last_name,
        (array_agg(date_of_birth order by created_at, customer_id)
            filter (where date_of_birth is not null))[1] as golden_date_of_birth,
        coalesce(
            (array_agg(email order by updated_at desc) filter (where email_is_valid))[1],
            (array_agg(email order by updated_at desc) filter (where email is not null))[1]
        ) as golden_email,
        (array_agg(phone_e164 order by updated_at desc) filter (where phone_e164 is not null))[1]
            as golden_phone,
        (array_agg(address_line order by created_at, customer_id)
            filter (where address_line is not null))[1] as golden_address_line,
        (array_agg(city order by created_at, customer_id) filter (where city is not null))[1]
            as golden_city,
        (array_agg(postcode order by created_at, customer_id) filter (where postcode is not null))[1]
            as golden_postcode,
        case when bool_or(segment = 'business') then 'business' else 'consumer' end
            as golden_segment,
        count(*) as crm_records
    from members
    group by golden_id
),

links as (
    select l.customer_id, l.account_id
    from {{ source('reconciliation', 'customer_links') }} as l
    where l.accepted and not exists (
        select 1
        from {{ source('reconciliation', 'match_reviews') }} as r
        where r.model = 'link' and r.decision = 'rejected'
            and r.left_id = l.customer_id and r.right_id = l.account_id
    )
    union
    select left_id, right_id
    from {{ source('reconciliation', 'match_reviews') }}
    where model = 'link' and decision = 'confirmed'
),

accounts as (
    select
        m.golden_id,
        array_agg(distinct l.account_id order by l.account_id) as account_ids
    from members as m
    inner join links as l using (customer_id)
    group by m.golden_id
)

select
    m.customer_id,
    m.golden_id,
    s.crm_records,
    s.golden_first_name,
    s.golden_last_name,
    s.golden_date_of_birth,
    s.golden_email,
    s.golden_phone,
    s.golden_address_line,
    s.golden_city,
    s.golden_postcode,
    s.golden_segment,
    coalesce(a.account_ids, '{}') as account_ids
from members as m
inner join survivors as s using (golden_id)
left join accounts as a using (golden_id)
