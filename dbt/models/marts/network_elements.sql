-- Every network element with its place in the topology: a cell rolls up to the core element
-- that serves it (parent_element_id), and both to their site and region. RCA walks this.
with elements as (
    select * from {{ ref('stg_oss__network_elements') }}
)

select
    e.network_element_id,
    e.element_type,
    e.element_type in ('enodeb', 'gnodeb') as is_cell,
    case
        when e.element_type in ('enodeb', 'gnodeb') then e.parent_element_id
        else e.network_element_id
    end as core_element_id,
    core.element_type as core_element_type,
    e.parent_element_id,
    e.site_id,
    e.region,
    e.vendor,
    e.status,
    e.commissioned_at
from elements as e
left join elements as core
    on core.network_element_id = case
        when e.element_type in ('enodeb', 'gnodeb') then e.parent_element_id
        else e.network_element_id
    end
