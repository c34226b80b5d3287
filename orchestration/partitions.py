"""The daily partitions every dated asset shares."""

from __future__ import annotations

from dagster import DailyPartitionsDefinition

from sdp.operator import load_profile
from sdp.partitions import END_OFFSET_DAYS
from sdp.settings import load_settings

# Operators back-load history: the first day is configurable, today is always included. A day
# is the operator's (its profile's time zone), as the warehouse's days are.
daily_partitions = DailyPartitionsDefinition(
    start_date=load_settings().partitions_start.isoformat(),
    end_offset=END_OFFSET_DAYS,
    timezone=load_profile().timezone,
)
