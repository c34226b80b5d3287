{# Join condition for the tariff valid on a date: valid_from <= d < valid_until. #}
{% macro tariff_valid_on(tariff_alias, day_expression) -%}
{{ tariff_alias }}.valid_from <= {{ day_expression }} and {{ day_expression }} < {{ tariff_alias }}.valid_until
{%- endmacro %}
