{#
  Days and months are the operator's: the instant's local date or month in the operator
  profile's time zone (var `operator_timezone`, passed on every invocation from sdp.operator).
#}
{% macro local_date(expression) -%}
({{ expression }} at time zone '{{ var("operator_timezone") }}')::date
{%- endmacro %}

{% macro local_month(expression) -%}
to_char({{ expression }} at time zone '{{ var("operator_timezone") }}', 'YYYY-MM')
{%- endmacro %}
