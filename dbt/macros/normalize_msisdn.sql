{#
  A phone number as people type it, to E.164 (+CCNNNN...), or null when it cannot be one.
  Handles "+44 7700 900123", "0044 7700 900123", "447700900123", "07700 900123" and
  "+44 (0)7700-900-123" and "(0)7700-900-123": a "(0)" trunk prefix after a country code is
  dropped and at the start means 0, separators are removed, a national number gets the
  default country code. E.164 allows at most 15 digits.
#}
{% macro normalize_msisdn(column, country_code=none) -%}
{%- set cc = country_code or var('default_country_code') -%}
(
    case
        when {{ column }} is null then null
        else (
            select case
                when d.digits !~ '^[0-9]{8,15}$' then null
                else '+' || d.digits
            end
            from (
                select case
                    when s.cleaned like '+%' then substr(s.cleaned, 2)
                    when s.cleaned like '00%' then substr(s.cleaned, 3)
                    when s.cleaned like '0%' then '{{ cc }}' || substr(s.cleaned, 2)
                    when s.cleaned like '{{ cc }}%' and length(s.cleaned) > 10 then s.cleaned
                    else null
                end as digits
                from (
                    select regexp_replace(
                        replace(regexp_replace(btrim({{ column }}), '^\(0\)', '0'), '(0)', ''),
                        '[\s().\-/]', '', 'g'
                    ) as cleaned
                ) as s
            ) as d
        )
    end
)
{%- endmacro %}
