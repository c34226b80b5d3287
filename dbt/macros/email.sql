{# Emails compare lower-cased and trimmed; validity is a pragmatic shape check (one @, a dot in
   the domain, no spaces), not RFC 5322. #}
{% macro normalize_email(column) -%}
nullif(lower(btrim({{ column }})), '')
{%- endmacro %}

{% macro email_is_valid(column) -%}
coalesce({{ normalize_email(column) }} ~ '^[a-z0-9._%+''-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$', false)
{%- endmacro %}
