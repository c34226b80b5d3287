"""The daily partitions every dated asset shares."""

from __future__ import annotations

import os

from dagster import DailyPartitionsDefinition

# Operators back-load history: the first day is configurable, today is always included.
daily_partitions = DailyPartitionsDefinition(
    start_date=os.environ.get("SDP_PARTITIONS_START", "2025-01-01"), end_offset=1
)
