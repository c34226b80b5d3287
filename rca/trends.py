"""Trend analysis on a KPI series: when did it change, is it drifting, how does a window compare.

A series is a sequence of (time, value) pairs, evenly spaced (hours, days, plain integers),
possibly with missing steps or NaN/None values; a bare sequence of numbers or a {time: value}
mapping is accepted too. Every function first puts the series on its regular grid, so indices
count steps (a missing hour still counts) and gaps never shift a change point's time.

- `change_points`: PELT (Killick et al., 2012) on mean shifts with a BIC-like penalty. The noise
  scale comes from the MAD of first differences, which a step barely moves (one large difference
  among many) while the plain standard deviation would be inflated by the very shift sought.
- `trend`: Theil–Sen slope with its confidence interval and a Mann–Kendall test (Kendall's tau
  against time): both rank-based, so one outage day neither tilts the slope nor fakes a trend.
- `window_change`: a window's mean against the same hours (or days) in earlier periods, the
  comparison that says whether, and by how much, things are different *since* a given time.

The tests assume independent noise around the level: strong autocorrelation or a seasonal
profile (hourly traffic) must be removed first (daily totals, or values minus the same hour's
baseline), otherwise the cycle is reported as shifts and a trend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from scipy import stats

PENALTY_FACTOR = 3.0  # β = factor · σ² · log n; 2 is plain BIC, 3 keeps noise quiet (see tests)
MIN_SIZE = 3  # shortest segment: a single odd point is an outlier, not a new level
TREND_ALPHA = 0.05

SeriesLike = Sequence[Any] | Mapping[Any, Any] | np.ndarray


@dataclass(frozen=True)
class ChangePoint:
    """A shift of the mean: the series differs from `index` (its first point on the new level)."""

    index: int  # position on the regular grid (missing steps counted)
    time: Any  # the grid's time at `index`
    previous_time: Any  # the last observed time on the old level: the shift happened after it
    mean_before: float  # mean of the segment that ends here
    mean_after: float  # mean of the segment that starts here
    relative_change: float | None  # (after − before) / |before|; None when before is 0
    score: float  # |after − before| in standard errors of the difference of the two means

    def describe(self) -> str:
        verb = "rose" if self.mean_after > self.mean_before else "fell"
        by = f" {abs(self.relative_change):.0%}" if self.relative_change is not None else ""
        return (
            f"mean {verb}{by} at {self.time} "
            f"(from {_number(self.mean_before)} to {_number(self.mean_after)})"
        )


@dataclass(frozen=True)
class Trend:
    """Theil–Sen slope per grid step, its interval, and the Mann–Kendall significance."""

    slope: float
    slope_low: float
    slope_high: float
    intercept: float  # value at grid index 0
    relative_slope: float | None  # slope / |mean|: 0.01 is 1% of the level per step
    tau: float
    p_value: float
    direction: str  # rising, falling or flat (not significant at the chosen alpha)
    n: int  # observed points used

    def describe(self) -> str:
        if self.direction == "flat":
            return f"flat (no significant trend, p={self.p_value:.2g})"
        size = (
            f"{abs(self.relative_slope):.1%} of the mean"
            if self.relative_slope is not None
            else _number(abs(self.slope))
        )
        return f"{self.direction} {size} per step (p={self.p_value:.2g})"


@dataclass(frozen=True)
class WindowChange:
    """A window's mean against the same positions one or more periods earlier."""

    start: Any
    end: Any  # exclusive
    mean: float
    baseline_mean: float
    delta: float
    relative_change: float | None  # delta / |baseline_mean|; None when the baseline is 0
    n: int
    baseline_n: int
    p_value: float  # Welch's t-test, NaN when either side has fewer than two points

    def describe(self) -> str:
        change = f" ({self.relative_change:+.0%})" if self.relative_change is not None else ""
        return (
            f"mean {_number(self.mean)} from {self.start} to {self.end} "
            f"vs {_number(self.baseline_mean)} before{change}"
        )


@dataclass(frozen=True)
class _Grid:
    """The series on its regular grid: value k is at time t0 + k·step, NaN where missing."""

    t0: Any
    step: Any
    values: np.ndarray

    def time(self, k: int) -> Any:
        return self.t0 + self.step * k

    def offset(self, t: Any) -> float:
        """Position of time `t` on the grid, in steps (fractional if off-grid)."""
        return float((t - self.t0) / self.step)

    @property
    def observed(self) -> np.ndarray:
        return np.flatnonzero(~np.isnan(self.values))


def change_points(
    series: SeriesLike,
    *,
    penalty_factor: float = PENALTY_FACTOR,
    min_size: int = MIN_SIZE,
    sigma: float | None = None,
) -> list[ChangePoint]:
    """Shifts of the mean, in time order, found by PELT with a penalised squared-error cost.

    The cost of a segment is its squared deviation from its own mean in units of σ², and each
    change pays β = penalty_factor · log n, the BIC charge for a new mean and a new location
    (2 · log n) with a margin, because σ is itself estimated. `sigma` overrides the robust
    estimate (1.4826 · MAD of first differences / √2) when the noise level is known.
    """
    grid = _regular(series)
    where = grid.observed
    y = grid.values[where]
    n = len(y)
    if n < 2 * min_size:
        return []
    scale = sigma if sigma is not None else _robust_sigma(y)
    if not scale > 0:
        return []  # a constant series has no shift
    z = (y - y.mean()) / scale
    cuts = _pelt(z, penalty_factor * math.log(n), min_size)
    bounds = [0, *cuts, n]
    found = []
    for k in range(1, len(bounds) - 1):
        before = y[bounds[k - 1] : bounds[k]]
        after = y[bounds[k] : bounds[k + 1]]
        m0, m1 = float(before.mean()), float(after.mean())
        se = scale * math.sqrt(1 / len(before) + 1 / len(after))
        index = int(where[bounds[k]])
        previous = int(where[bounds[k] - 1])
        found.append(
            ChangePoint(
                index=index,
                time=grid.time(index),
                previous_time=grid.time(previous),
                mean_before=m0,
                mean_after=m1,
                relative_change=(m1 - m0) / abs(m0) if m0 != 0 else None,
                score=abs(m1 - m0) / se,
            )
        )
    return found


def trend(series: SeriesLike, *, alpha: float = TREND_ALPHA, confidence: float = 0.95) -> Trend:
    """Theil–Sen slope (per grid step) with its `confidence` interval, and Mann–Kendall's p.

    The direction is rising or falling only when Kendall's tau against time is significant at
    `alpha`; the slope is reported either way, since a flat verdict with a wide interval
    means "not enough evidence", not "no change".
    """
    grid = _regular(series)
    x = grid.observed.astype(float)
    y = grid.values[grid.observed]
    if len(y) < 3:
        raise ValueError("a trend needs at least three observed points")
    fit = stats.theilslopes(y, x, alpha=confidence)
    tau = stats.kendalltau(x, y)
    tau_value = float(tau.statistic) if np.isfinite(tau.statistic) else 0.0
    p_value = float(tau.pvalue) if np.isfinite(tau.pvalue) else 1.0  # constant y: no trend
    level = float(np.mean(y))
    slope = float(fit.slope)
    direction = "flat"
    if p_value < alpha and slope != 0:
        direction = "rising" if slope > 0 else "falling"
    return Trend(
        slope=slope,
        slope_low=float(fit.low_slope),
        slope_high=float(fit.high_slope),
        intercept=float(fit.intercept),
        relative_slope=slope / abs(level) if level != 0 else None,
        tau=tau_value,
        p_value=p_value,
        direction=direction,
        n=len(y),
    )


def window_change(
    series: SeriesLike,
    start: Any,
    end: Any,
    *,
    period: Any = None,
    periods: int = 1,
) -> WindowChange:
    """The mean over [start, end) against the same positions `periods` periods earlier.

    `period` is the seasonality in grid steps (24 for hourly data with a daily profile) or as a
    time span (a timedelta for datetime series); the baseline is then the same hours of the
    `periods` previous days, so a night-time window is never compared with daytime traffic.
    Without `period`, the baseline is the window of equal length just before (periods = 1
    back-to-back windows). Missing values are skipped on both sides, and baseline positions
    are always before `start`: with a period shorter than the window, the shifted copies that
    would overlap the window itself are cut, so an incident is never its own baseline.
    """
    grid = _regular(series)
    first = math.ceil(grid.offset(start) - 1e-9)
    stop = math.ceil(grid.offset(end) - 1e-9)
    if stop <= first:
        raise ValueError("the window is empty: end must be after start")
    shift = stop - first if period is None else _steps(grid, period)
    if shift <= 0 or periods < 1:
        raise ValueError("period and periods must be positive")
    inside = _take(grid.values, range(first, stop))
    before = _take(
        grid.values,
        [k - j * shift for j in range(1, periods + 1) for k in range(first, stop)],
        below=first,
    )
    if inside.size == 0:
        raise ValueError(f"no observed value between {start} and {end}")
    if before.size == 0:
        raise ValueError(f"no observed baseline before {start}")
    mean, base = float(inside.mean()), float(before.mean())
    p_value = (
        float(stats.ttest_ind(inside, before, equal_var=False).pvalue)
        if inside.size > 1 and before.size > 1
        else float("nan")
    )
    return WindowChange(
        start=start,
        end=end,
        mean=mean,
        baseline_mean=base,
        delta=mean - base,
        relative_change=(mean - base) / abs(base) if base != 0 else None,
        n=int(inside.size),
        baseline_n=int(before.size),
        p_value=p_value,
    )


def _regular(series: SeriesLike) -> _Grid:
    """Sort the pairs, infer the step (the smallest spacing) and lay the values on the grid."""
    times, values = _pairs(series)
    if not times:
        return _Grid(0, 1, np.empty(0))
    order = sorted(range(len(times)), key=lambda i: times[i])
    times = [times[i] for i in order]
    values = [values[i] for i in order]
    t0 = times[0]
    if len(times) == 1:
        return _Grid(t0, 1, np.asarray(values, dtype=float))
    spacings = [b - a for a, b in pairwise(times)]
    if any(not s > s * 0 for s in spacings):  # `s * 0` is the zero of the spacing's type
        raise ValueError("the series has duplicate times")
    step = min(spacings)
    offsets = np.array([float((t - t0) / step) for t in times])
    positions = np.rint(offsets).astype(np.int64)
    if np.abs(offsets - positions).max() > 0.01:
        raise ValueError("the series is not evenly spaced")
    grid = np.full(int(positions[-1]) + 1, np.nan)
    grid[positions] = values
    return _Grid(t0, step, grid)


def _pairs(series: SeriesLike) -> tuple[list[Any], list[float]]:
    items = list(series.items()) if isinstance(series, Mapping) else list(series)
    if items and _is_pair(items[0]):
        times = [_plain(t) for t, _ in items]
        return times, [_value(v) for _, v in items]
    return list(range(len(items))), [_value(v) for v in items]


def _is_pair(item: Any) -> bool:
    return isinstance(item, (tuple, list, np.ndarray)) and len(item) == 2


def _plain(t: Any) -> Any:
    """numpy scalars as Python numbers, so that grid times print and compare plainly."""
    return t.item() if isinstance(t, np.number) else t


def _value(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _robust_sigma(y: np.ndarray) -> float:
    """Noise σ from first differences: MAD / 0.6745 is σ of a difference, which is σ·√2."""
    d = np.diff(y)
    mad = float(np.median(np.abs(d - np.median(d))))
    if mad > 0:
        return 1.4826 * mad / math.sqrt(2)
    # more than half the differences are equal (a noise-free or quantised series): fall back
    return float(np.std(d)) / math.sqrt(2)


def _pelt(z: np.ndarray, beta: float, min_size: int) -> list[int]:
    """Optimal segmentation of `z` (unit noise) under cost = RSS + β per change; the cuts."""
    n = len(z)
    s1 = np.concatenate([[0.0], np.cumsum(z)])
    s2 = np.concatenate([[0.0], np.cumsum(z * z)])
    best = np.full(n + 1, np.inf)
    best[0] = -beta
    last = np.zeros(n + 1, dtype=np.int64)
    starts = np.array([0], dtype=np.int64)  # candidate last-change positions, pruned
    for t in range(min_size, n + 1):
        admissible = t - starts >= min_size
        ok = starts[admissible]
        rss = s2[t] - s2[ok] - (s1[t] - s1[ok]) ** 2 / (t - ok)
        total = best[ok] + rss + beta
        k = int(np.argmin(total))
        best[t], last[t] = total[k], ok[k]
        # PELT pruning: a start that cannot beat the optimum now never will (the cost is additive)
        keep = ~admissible
        keep[admissible] = total - beta <= best[t]
        starts = starts[keep]
        if t <= n - min_size:
            starts = np.append(starts, t)
    cuts = []
    t = n
    while t > 0:
        t = int(last[t])
        if t > 0:
            cuts.append(t)
    return cuts[::-1]


def _steps(grid: _Grid, period: Any) -> int:
    if isinstance(period, (int, np.integer)):
        return int(period)
    return round(float(period / grid.step))


def _take(values: np.ndarray, positions: Any, below: int | None = None) -> np.ndarray:
    """Observed values at `positions` on the grid (and before `below`), NaN and outside dropped."""
    limit = len(values) if below is None else min(below, len(values))
    idx = np.array([k for k in positions if 0 <= k < limit], dtype=np.int64)
    picked = values[idx] if idx.size else np.empty(0)
    return picked[~np.isnan(picked)]


def _number(x: float) -> str:
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.3g}"
