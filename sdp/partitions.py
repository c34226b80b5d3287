"""The daily partitions' window: from the configured first day to today, inclusive, days being
the operator's (its profile's time zone).

Dagster's partitions definition, the landing sensor and the CLI all read it from here, so a day
one of them accepts is a day every other one accepts too.
"""

from __future__ import annotations

from datetime import date, datetime

from sdp.operator import load_profile
from sdp.settings import Settings

# today's partition exists: the day's feeds land while it runs, and the sensors load them
END_OFFSET_DAYS = 1


def partition_window(settings: Settings, today: date | None = None) -> tuple[date, date]:
    return settings.partitions_start, today or datetime.now(load_profile().zone).date()


def parse_day(text: str) -> date:
    """A day as given on a command line; ValueError says the format."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a day: give YYYY-MM-DD") from None


def parse_partition_day(text: str, settings: Settings, today: date | None = None) -> date:
    """A partition key as given on a command line; ValueError says the format or the range."""
    day = parse_day(text)
    first, last = partition_window(settings, today)
    if not first <= day <= last:
        raise ValueError(
            f"{day} is outside the daily partitions, {first} to {last} "
            "(the first day is SDP_PARTITIONS_START)"
        )
    return day
