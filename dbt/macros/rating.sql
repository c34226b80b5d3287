{#
  The rating rule (DESIGN "Rating rule"), in one place for every model that prices a CDR.
  Voice: answered or dropped calls with duration_s > 0, ceil(duration_s / 60) minutes.
  SMS: one message. Data: volume_mb. Null when the record is not billable.
  PostgreSQL's numeric round() rounds half away from zero: half-up for the non-negative
  amounts rated here, never banker's rounding.
#}
{% macro billable_quantity(service_type, call_result, duration_s, volume_mb) -%}
case
    when {{ service_type }} = 'voice'
        then case
            when {{ call_result }} in ('answered', 'dropped') and {{ duration_s }} > 0
                then ceil({{ duration_s }} / 60.0)::numeric
        end
    when {{ service_type }} = 'sms' then 1::numeric
    when {{ service_type }} = 'data' then {{ volume_mb }}
end
{%- endmacro %}

{% macro rated_amount(quantity, unit_price) -%}
round(({{ quantity }}) * ({{ unit_price }}), 4)
{%- endmacro %}
