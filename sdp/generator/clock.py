"""The generation window, its bill runs, and the timestamp formats the feeds write.

Inside the generator a moment is whole seconds of the operator's wall clock from the window's
first local midnight (in the profile's time zone): ints are cheap to draw, compare and sort by
the million, and become text only when a row is written, in the style of the feed that writes
it (the market's): UTC with "Z", local with its offset, or local without one. Days are the
operator's days, so a day's partition holds what happened on that local date. Nothing here
reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

DAY = 86_400
HOUR = 3_600


@lru_cache(maxsize=8192)
def _day_text(start: date, day: int) -> str:
    return (start + timedelta(days=day)).isoformat()


@lru_cache(maxsize=65536)
def _offset(start: date, zone: tzinfo, hour: int) -> int:
    """Seconds east of UTC of the zone at local hour `hour` of the window (from its start)."""
    local = datetime.combine(start, time(0)) + timedelta(hours=hour)
    # a repeated local hour is its second occurrence, as PostgreSQL reads a time without offset
    delta = local.replace(tzinfo=zone, fold=1).utcoffset()
    return int(delta.total_seconds()) if delta else 0


def _offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


@dataclass(frozen=True)
class BillRun:
    """Invoices for `period` issued on window day `day` (the first day of the next month)."""

    day: int
    period: str  # YYYY-MM
    first_day: int  # window day index of the period's first day (negative: before the window)
    last_day: int
    cutoff: int  # seconds: usage rated before this is on the invoice


@dataclass(frozen=True)
class Window:
    start: date
    days: int
    zone: tzinfo  # the operator profile's
    # feed -> timestamp style (z, offset, naive): the market's
    styles: Mapping[str, str]
    # usage rated before this local hour of a bill run's day is on its invoices (the profile's)
    bill_run_cutoff_hour: int

    @property
    def seconds(self) -> int:
        return self.days * DAY

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def at(self, seconds: int) -> datetime:
        """The moment in the operator's zone (so its date is the operator's day)."""
        local = datetime.combine(self.start, time(0)) + timedelta(seconds=seconds)
        return local.replace(tzinfo=self.zone, fold=1)

    def day_index(self, day: date) -> int:
        return (day - self.start).days

    def _parts(self, seconds: int) -> tuple[str, int, int, int]:
        day, rest = divmod(seconds, DAY)
        hours, rest = divmod(rest, HOUR)
        minutes, secs = divmod(rest, 60)
        return _day_text(self.start, day), hours, minutes, secs

    def offset(self, seconds: int) -> int:
        return _offset(self.start, self.zone, seconds // HOUR)

    def iso_z(self, seconds: int) -> str:
        """2026-10-27T13:03:12Z: UTC."""
        d, h, m, s = self._parts(seconds - self.offset(seconds))
        return f"{d}T{h:02d}:{m:02d}:{s:02d}Z"

    def iso_offset(self, seconds: int) -> str:
        """2026-10-27T14:03:12+01:00: local, with the zone's offset."""
        d, h, m, s = self._parts(seconds)
        return f"{d}T{h:02d}:{m:02d}:{s:02d}{_offset_text(self.offset(seconds))}"

    def naive(self, seconds: int) -> str:
        """2026-10-27 14:03:12: local, without an offset (read in the profile's zone)."""
        d, h, m, s = self._parts(seconds)
        return f"{d} {h:02d}:{m:02d}:{s:02d}"

    def stamper(self, feed: str) -> Callable[[int], str]:
        """How `feed` writes a moment, by the market's style for it."""
        style = self.styles[feed]
        return {"z": self.iso_z, "offset": self.iso_offset, "naive": self.naive}[style]

    def stamp(self, feed: str, seconds: int) -> str:
        return self.stamper(feed)(seconds)

    def bill_runs(self) -> tuple[BillRun, ...]:
        """One bill run on each first-of-month after the window's first day, for the month
        before it, so every invoiced period has traffic inside the window."""
        runs = []
        for day in range(1, self.days):
            issue = self.date_of(day)
            if issue.day != 1:
                continue
            last = issue - timedelta(days=1)
            first = last.replace(day=1)
            runs.append(
                BillRun(
                    day=day,
                    period=f"{last.year:04d}-{last.month:02d}",
                    first_day=self.day_index(first),
                    last_day=self.day_index(last),
                    cutoff=day * DAY + self.bill_run_cutoff_hour * HOUR,
                )
            )
        return tuple(runs)

    def months(self) -> tuple[tuple[int, int], ...]:
        """(first, last) window day indexes of each calendar month the window touches, clipped
        to the window: the months a line owes a fee for when it is active in them."""
        spans = []
        day = 0
        while day < self.days:
            current = self.date_of(day)
            following = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
            last = min(self.day_index(following) - 1, self.days - 1)
            spans.append((day, last))
            day = last + 1
        return tuple(spans)
