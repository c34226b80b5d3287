{#
  A raw phone value as E.164, and why it is not a valid number: libphonenumber's reading
  (sdp/numbering.py, table reference.phone_numbers) for the operator profile's home country
  (var `operator_country`). SQL never re-implements numbering plans. A value the table does not
  hold yet has no E.164 and says so, never a silent null.
#}
{% macro _phone_lookup(column, expression) -%}
(
    select {{ expression }}
    from {{ source('reference', 'phone_numbers') }} as n
    where n.home_country = '{{ var("operator_country") }}'
        and n.raw_value = btrim({{ column }})
)
{%- endmacro %}

{% macro phone_e164(column) -%}
{{ _phone_lookup(column, 'n.e164') }}
{%- endmacro %}

{% macro phone_issue(column) -%}
case
    when nullif(btrim({{ column }}), '') is null then null
    else nullif(coalesce(
        {{ _phone_lookup(column, "coalesce(n.issue, '')") }},
        'not normalized yet: materialize reference/phone_numbers'
    ), '')
end
{%- endmacro %}
