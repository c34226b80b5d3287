{# Two rows of one plan and service valid on the same day make the rating rule ambiguous. #}
{% test no_overlapping_tariffs(model) %}
select a.plan_code, a.service_type, a.valid_from, b.valid_from as overlapping_from
from {{ model }} as a
inner join {{ model }} as b
    on a.plan_code = b.plan_code
    and a.service_type = b.service_type
    and a.valid_from < b.valid_from
    and b.valid_from < a.valid_until
{% endtest %}
