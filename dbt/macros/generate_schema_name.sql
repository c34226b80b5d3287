{# Layers get their own schemas by name (staging, marts, controls, kpis), not target_schema_suffix:
   the schemas are the platform's public interface for the API, dashboards and Soda. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
