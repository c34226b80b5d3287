-- Pairs a reviewer should decide: Zingg's score lies within the model's review margin of its
-- acceptance floor, on either side (just accepted, or just kept apart). The reconciliation
-- assets mark those scores `doubtful` from `platform.minScore` and `platform.reviewMargin` of
-- zingg_configs/<model>.json. A pair leaves the queue once a reviewer decided it: the decision
-- (reconciliation.match_reviews) overrides Zingg in the golden customers and joins the next
-- training.
--
-- Zingg scores records, not pairs: a doubtful CRM record is listed with each other record of
-- its Zingg cluster, at the record's best score. `accepted` is what the golden customers do
-- today: the two records are one customer / the account is the customer's.
with matches as (
    select * from {{ source('reconciliation', 'customer_matches') }}
),

match_pairs as (
    select
        'match' as model,
        least(doubtful.customer_id, other.customer_id) as left_id,
        greatest(doubtful.customer_id, other.customer_id) as right_id,
        min(doubtful.z_max_score) as z_score,
        bool_and(doubtful.z_cluster = other.z_cluster) as accepted
    from matches as doubtful
    inner join matches as other
        on other.zingg_cluster = doubtful.zingg_cluster
        and other.customer_id <> doubtful.customer_id
    where doubtful.doubtful
    group by
        least(doubtful.customer_id, other.customer_id),
        greatest(doubtful.customer_id, other.customer_id)
),

link_pairs as (
    select
        'link' as model,
        customer_id as left_id,
        account_id as right_id,
        z_score,
        accepted
    from {{ source('reconciliation', 'customer_links') }}
    where doubtful
),

pairs as (
    select * from match_pairs
    union all
    select * from link_pairs
),

-- each side as a reviewer reads it: name, birth date, email, phone, address
customers as (
    select
        customer_id as record_id,
        concat_ws(
            ' | ',
            nullif(concat_ws(' ', first_name, last_name), ''),
            date_of_birth::text,
            email,
            coalesce(phone_e164, phone_raw),
            nullif(concat_ws(', ', address_line, postcode, city), '')
        ) as summary
    from {{ ref('stg_crm__customers') }}
),

accounts as (
    select
        account_id as record_id,
        concat_ws(
            ' | ',
            holder_name,
            email,
            coalesce(phone_e164, phone_raw),
            nullif(concat_ws(', ', billing_address, postcode, city), '')
        ) as summary
    from {{ ref('stg_billing__accounts') }}
)

select
    p.model,
    p.left_id,
    p.right_id,
    p.z_score,
    p.accepted,
    l.summary as left_record,
    coalesce(rc.summary, ra.summary) as right_record
from pairs as p
left join customers as l on l.record_id = p.left_id
left join customers as rc on p.model = 'match' and rc.record_id = p.right_id
left join accounts as ra on p.model = 'link' and ra.record_id = p.right_id
where not exists (
    select 1
    from {{ source('reconciliation', 'match_reviews') }} as r
    where r.model = p.model and r.left_id = p.left_id and r.right_id = p.right_id
)
