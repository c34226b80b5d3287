{# Rows whose combination of columns is not unique (dbt_utils' test, without the package:
   dbt deps would need the network at build time). #}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
