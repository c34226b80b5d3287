"""The generation window, its bill runs, and the timestamp formats the feeds write.

Inside the generator a moment is whole seconds from the window's first midnight (UTC): ints are
cheap to draw, compare and sort by the million, and become text only when a row is written, in
the style of the feed that writes it. Nothing here reads the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

DAY = 86_400
HOUR = 3_600
# usage rated before this hour of the bill-run day is on the invoice: the last day's calls
# (up to two hours long, rated minutes after they end) are all in by then
BILL_RUN_CUTOFF_HOUR = 6


@lru_cache(maxsize=8192)
def _day_text(start: date, day: int) -> str:
    return (start + timedelta(days=day)).isoformat()


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

    @property
    def seconds(self) -> int:
        return self.days * DAY

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def at(self, seconds: int) -> datetime:
        return datetime.combine(self.start, time(0), UTC) + timedelta(seconds=seconds)

    def day_index(self, day: date) -> int:
        return (day - self.start).days

    def _parts(self, seconds: int) -> tuple[str, int, int, int]:
        day, rest = divmod(seconds, DAY)
        hours, rest = divmod(rest, HOUR)
        minutes, secs = divmod(rest, 60)
        return _day_text(self.start, day), hours, minutes, secs

    def iso_z(self, seconds: int) -> str:
        """2026-10-27T14:03:12Z (mediation and OSS)."""
        d, h, m, s = self._parts(seconds)
        return f"{d}T{h:02d}:{m:02d}:{s:02d}Z"

    def iso_offset(self, seconds: int) -> str:
        """2026-10-27T14:03:12+00:00 (billing, the packet core)."""
        d, h, m, s = self._parts(seconds)
        return f"{d}T{h:02d}:{m:02d}:{s:02d}+00:00"

    def naive(self, seconds: int) -> str:
        """2026-10-27 14:03:12 (CRM: no offset, which the contract reads as UTC)."""
        d, h, m, s = self._parts(seconds)
        return f"{d} {h:02d}:{m:02d}:{s:02d}"

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
                    cutoff=day * DAY + BILL_RUN_CUTOFF_HOUR * HOUR,
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
