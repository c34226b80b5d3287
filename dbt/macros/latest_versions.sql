{#
  The current version of each key of a raw table, and how many exact replays of it arrived.

  Raw keeps every landed batch; a later batch with the same key is an update (the contract), so
  the version from the most recently landed batch wins. Rows identical to it in every contract
  column (lineage aside) are replays of the same record: they are dropped here and counted in
  `replayed_rows`, so a mediation replay stays visible without double-counting.
#}
{% macro latest_versions(table_name, key_columns) %}
{%- set keys = key_columns | join(', ') -%}
with versions as (
    select
        r.*,
        l.landed_at as batch_landed_at,
        md5((to_jsonb(r) - 'batch_id' - 'file' - 'line' - 'loaded_at')::text) as row_hash
    from {{ source('raw', table_name) }} as r
    inner join {{ source('raw', '_loads') }} as l
        on l.batch_id = r.batch_id and l.status = 'loaded'
),

ranked as (
    select
        *,
        row_number() over (
            partition by {{ keys }} order by batch_landed_at desc, loaded_at desc, line desc
        ) as version_rank,
        count(*) over (partition by {{ keys }}, row_hash) as identical_rows,
        count(*) over (partition by {{ keys }}) as landed_rows
    from versions
)

select
    *,
    identical_rows - 1 as replayed_rows,
    landed_rows - identical_rows as superseded_rows
from ranked
where version_rank = 1
{% endmacro %}
