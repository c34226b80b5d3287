with current_rows as (
    {{ latest_versions('oss_network_elements', ['network_element_id']) }}
)

select
    btrim(network_element_id) as network_element_id,
    element_type,
    btrim(vendor) as vendor,
    btrim(region) as region,
    btrim(site_id) as site_id,
    nullif(btrim(parent_element_id), '') as parent_element_id,
    status,
    commissioned_at,
    batch_id
from current_rows
