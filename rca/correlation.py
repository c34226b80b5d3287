"""Lagged correlation of a KPI series with candidate driver series, corrected for testing many.

A root cause usually shows up before its effect: alarms on an MSC an hour before its CDR count
falls, a feed's reject rate a day before billed revenue dips. So each driver is compared with the
KPI at every lag from 0 to `max_lag` steps (driver leading), and, on request, at negative lags too
(driver trailing: more likely a consequence than a cause). Each (driver, lag) pair is one test on
the points where both series have a value; a driver's best lag is its strongest test.

Choosing the best of many lags over many drivers finds something in pure noise: with 50 drivers
and 25 lags, about 60 of 1,250 tests clear p < 0.05 by chance. The correction is therefore taken
over every test actually run (all drivers × all lags), not over one test per driver, and the
ranking is by adjusted p-value.

Pearson's r measures a linear effect (ten alarms, ten times the drop); Spearman's ρ, computed on
the same points, only a monotone one and is robust to a single burst; both are reported so that a
correlation carried by one outlier stands out as a high r with a low ρ. p-values are the usual
t-test of no correlation, which assumes independent points, and telecom series are anything but:
- series that share a trend or a season correlate without any causal link, so `season` removes a
  repeating cycle (the daily swing of hourly traffic, which would otherwise drown a real driver)
  and `difference=True` correlates step-to-step changes instead of levels;
- series with memory (an alarm active for three hours is one event, not three; a backlog drains
  over hours) are worth fewer independent points than they have, so each test counts its pairs
  as the effective number the two series' lag-1 autocorrelations leave. Without that, two
  unrelated slowly wandering series pass as drivers of each other most of the time.

The bucketing helpers turn timestamped warehouse rows (alarms with raised_at/cleared_at, batches
with landed_at) into the evenly spaced series this module compares.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from scipy import stats

Correction = Literal["bh", "bonferroni"]
Method = Literal["pearson", "spearman"]

SeriesLike = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Correlation:
    """A driver's strongest lagged association with the KPI.

    `best_lag` is in steps of the series (hours for hourly buckets): positive when the driver
    leads the KPI, negative when it trails. `p_value` is the selected test's own; `adjusted_p`
    accounts for every (driver, lag) test run in the same call.
    """

    driver: str
    best_lag: int
    r: float
    spearman: float
    p_value: float
    adjusted_p: float
    n: int
    target: str = "KPI"
    step: str = "h"
    n_effective: float | None = None  # independent points n is worth; None: n itself

    def significant(self, alpha: float = 0.05) -> bool:
        return self.adjusted_p < alpha

    def describe(self) -> str:
        """One English line, e.g. 'critical alarms on MSC-NWE-01 lead the CDR count drop by
        1 h, r = −0.91 (Spearman −0.88, adjusted p = 2.1e-40, n = 719)'."""
        movement = "drop" if self.r < 0 else "rise"
        verb = _verb(self.driver, self.best_lag)
        lag = "" if self.best_lag == 0 else f" by {_duration(abs(self.best_lag), self.step)}"
        effective = ""
        if self.n_effective is not None and self.n_effective < 0.9 * self.n:
            effective = f", worth {self.n_effective:.0f} independent"
        return (
            f"{self.driver} {verb} the {self.target} {movement}{lag}, r = {_signed(self.r)}"
            f" (Spearman {_signed(self.spearman)}, adjusted p = {self.adjusted_p:.2g},"
            f" n = {self.n}{effective})"
        )


@dataclass(frozen=True)
class _Test:
    driver: str
    lag: int
    statistic: float  # Pearson's r or Spearman's ρ, whichever `method` asks for
    n: int
    n_effective: float


def correlate(
    target: SeriesLike,
    drivers: Mapping[str, SeriesLike],
    *,
    max_lag: int = 24,
    include_negative: bool = False,
    min_overlap: int = 12,
    correction: Correction = "bh",
    method: Method = "pearson",
    season: int | None = None,
    difference: bool = False,
    autocorrelation: bool = True,
    target_name: str = "KPI",
    step: str = "h",
) -> list[Correlation]:
    """Every driver's best lag against `target`, most significant first.

    All series are aligned on the same evenly spaced grid (NaN where a value is unknown). At lag
    k the driver's point t − k is paired with the target's point t. A lag is tested only when at
    least `min_overlap` pairs have both values and neither side is constant there; a driver with
    no testable lag is left out. `method` picks the statistic whose p-value chooses the best lag
    and is corrected (Benjamini–Hochberg false discovery rate, or Bonferroni's family-wise bound).

    `season` is the number of steps in a cycle the KPI repeats (24 for hourly series with a daily
    cycle, 7 for daily series with a weekly one): each series then has its mean at each phase of
    the cycle removed first, since any driver that happens to cluster at some hours of the day
    would otherwise "explain" the daily swing. `difference` then correlates step-to-step changes,
    against a shared trend.

    With `autocorrelation` (the default), each test counts its pairs as the fewer independent
    points they are worth when both series remember their last step, n (1 − a·b) / (1 + a·b)
    with a and b their lag-1 autocorrelations: an alarm active for three hours is one event,
    not three, and testing it as three finds drivers in chance overlaps.
    """
    y = _prepare(target, season, difference)
    y_memory = lag_one_autocorrelation(y) if autocorrelation else 0.0
    lags = range(-max_lag if include_negative else 0, max_lag + 1)
    prepared: dict[str, np.ndarray] = {}
    tests: list[_Test] = []
    for name, series in drivers.items():
        x = prepared[name] = _prepare(series, season, difference, len(y))
        shrink = _shrink(lag_one_autocorrelation(x), y_memory) if autocorrelation else 1.0
        tests += _driver_tests(name, y, x, lags, min_overlap, shrink, method)
    if not tests:
        return []
    chosen = p_values(
        np.array([t.statistic for t in tests]), np.array([t.n_effective for t in tests])
    )
    adjusted = adjust_p_values(chosen, correction)
    best: dict[str, tuple[_Test, float, float]] = {}
    for test, p, q in zip(tests, chosen, adjusted, strict=True):
        current = best.get(test.driver)
        if current is None or _strength(test, p) < _strength(current[0], current[1]):
            best[test.driver] = (test, float(p), float(q))
    found = []
    for t, p, q in best.values():
        # both statistics at the chosen lag only: ranking every lag is the costly part
        xs, ys = lagged_pairs(prepared[t.driver], y, t.lag)
        found.append(
            Correlation(
                driver=t.driver,
                best_lag=t.lag,
                r=_pearson(xs, ys),
                spearman=_pearson(_rank(xs), _rank(ys)),
                p_value=p,
                adjusted_p=q,
                n=t.n,
                target=target_name,
                step=step,
                n_effective=t.n_effective,
            )
        )
    return sorted(found, key=lambda c: (c.adjusted_p, -abs(_statistic(c, method)), c.driver))


def adjust_p_values(raw: SeriesLike, correction: Correction = "bh") -> np.ndarray:
    """Adjusted p-values for a family of tests, in the same order.

    Bonferroni bounds the chance of any false finding (p × m); Benjamini–Hochberg bounds the
    expected share of false findings among those reported, which keeps far more power when a
    handful of drivers out of hundreds are real.
    """
    p = np.asarray(raw, dtype=float)
    if p.size == 0:
        return p.copy()
    if correction == "bonferroni":
        return np.minimum(p * p.size, 1.0)
    if correction == "bh":
        return stats.false_discovery_control(p, method="bh")
    raise ValueError(f"unknown correction {correction!r}: use 'bh' or 'bonferroni'")


def lagged_pairs(x: np.ndarray, y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """The (driver, target) pairs at `lag` where both are known: x[t − lag] with y[t]."""
    if lag >= 0:
        xs, ys = x[: len(x) - lag], y[lag:]
    else:
        xs, ys = x[-lag:], y[: len(y) + lag]
    known = ~(np.isnan(xs) | np.isnan(ys))
    return xs[known], ys[known]


def _prepare(
    series: SeriesLike, season: int | None, difference: bool, length: int | None = None
) -> np.ndarray:
    values = np.asarray(series, dtype=float)
    if values.ndim != 1:
        raise ValueError("series must be one-dimensional")
    if season:
        values = deseasonalise(values, season)
    values = np.diff(values) if difference else values
    if length is not None and len(values) != length:
        raise ValueError(f"a driver has {len(values)} points, the target {length}: align them")
    return values


def deseasonalise(values: SeriesLike, period: int) -> np.ndarray:
    """The series less its mean at each phase of the cycle (each hour of the day for period 24),
    NaN kept; a phase with no known value is left as it is."""
    series = np.asarray(values, dtype=float)
    if period < 2:
        raise ValueError("a season needs a period of at least 2 steps")
    phase = np.arange(len(series)) % period
    known = ~np.isnan(series)
    sums = np.bincount(phase[known], weights=series[known], minlength=period)
    counts = np.bincount(phase[known], minlength=period)
    profile = np.divide(sums, counts, out=np.zeros(period), where=counts > 0)
    return series - profile[phase]


def lag_one_autocorrelation(values: np.ndarray) -> float:
    """Correlation of the series with itself one step later (0 when it cannot be measured)."""
    a, b = values[:-1], values[1:]
    known = ~(np.isnan(a) | np.isnan(b))
    if known.sum() < 3:
        return 0.0
    r = _pearson(a[known], b[known])
    return 0.0 if math.isnan(r) else r


def _shrink(a: float, b: float) -> float:
    """The share of n two AR(1)-like series' pairs are worth (Bretherton et al., 1999); series
    whose memories pull opposite ways are not credited with more than n."""
    product = a * b
    return 1.0 if product <= 0 else (1.0 - product) / (1.0 + product)


def _driver_tests(
    name: str,
    y: np.ndarray,
    x: np.ndarray,
    lags: Iterable[int],
    min_overlap: int,
    shrink: float,
    method: Method,
) -> list[_Test]:
    tests = []
    for lag in lags:
        if abs(lag) >= len(y):
            continue
        xs, ys = lagged_pairs(x, y, lag)
        n = len(xs)
        if n < max(min_overlap, 3):
            continue
        statistic = _pearson(xs, ys) if method == "pearson" else _pearson(_rank(xs), _rank(ys))
        if math.isnan(statistic):
            continue  # a constant side: no correlation can be measured
        tests.append(_Test(name, lag, statistic, n, max(3.0, n * shrink)))
    return tests


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    xc, yc = x - x.mean(), y - y.mean()
    scale = math.sqrt(float(xc @ xc) * float(yc @ yc))
    if scale == 0.0:
        return math.nan
    return max(-1.0, min(1.0, float(xc @ yc) / scale))


def _rank(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (as Spearman's ρ needs); scipy's rankdata
    computes the same at several times the per-call cost."""
    order = np.argsort(values)  # the order within ties does not matter: they share a rank
    ordered = values[order]
    starts = np.empty(len(values), dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    group = np.cumsum(starts) - 1
    bounds = np.append(np.flatnonzero(starts), len(values))
    average = (bounds[:-1] + bounds[1:] + 1) / 2.0
    ranks = np.empty(len(values))
    ranks[order] = average[group]
    return ranks


def p_values(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p of no correlation for each (r, n): t = r √((n − 2) / (1 − r²)) on n − 2
    degrees of freedom, the test scipy's pearsonr and spearmanr apply, here in one vectorised
    call rather than thousands of per-pair ones; n may be fractional (an effective size)."""
    r = np.clip(np.asarray(r, dtype=float), -1.0, 1.0)
    df = np.asarray(n, dtype=float) - 2.0
    with np.errstate(divide="ignore"):
        t = np.abs(r) * np.sqrt(df / (1.0 - r * r))
    return np.where(np.abs(r) >= 1.0, 0.0, 2.0 * stats.t.sf(t, df))


def _strength(test: _Test, p: float) -> tuple[float, float, int, int]:
    """Smaller p first; at equal p (both underflow to 0) the larger |statistic|, then the shorter
    lag, then the leading one."""
    return (p, -abs(test.statistic), abs(test.lag), -test.lag)


def _statistic(c: Correlation, method: Method) -> float:
    return c.r if method == "pearson" else c.spearman


def _signed(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _duration(lag: int, step: str) -> str:
    if len(step) <= 3 or lag == 1:  # a unit symbol (h, d, min) does not take a plural
        return f"{lag} {step}"
    return f"{lag} {step}s"


_VERBS = {1: ("leads", "lead"), -1: ("follows", "follow"), 0: ("coincides with", "coincide with")}


def _verb(driver: str, lag: int) -> str:
    """'lead' or 'leads': plural when the phrase's head noun is, taken as its last word before
    any ' on ', ' of '... and trailing participles ('tickets opened' → tickets)."""
    head = driver
    for separator in (" on ", " of ", " at ", " for ", " in ", " from ", " per "):
        head = head.split(separator)[0]
    words = head.lower().split()
    while len(words) > 1 and words[-1].endswith(("ed", "ing")):
        words.pop()
    last = words[-1] if words else ""
    plural = last.endswith("s") and not last.endswith(("ss", "us", "is"))
    singular_form, plural_form = _VERBS[(lag > 0) - (lag < 0)]
    return plural_form if plural else singular_form


def bucket_count(start: datetime, end: datetime, bucket_seconds: float) -> int:
    """Buckets [start + i·Δ, start + (i + 1)·Δ) needed to cover [start, end)."""
    if bucket_seconds <= 0:
        raise ValueError("bucket_seconds must be positive")
    return max(0, math.ceil((end - start).total_seconds() / bucket_seconds))


def events_per_bucket(
    timestamps: Iterable[datetime], start: datetime, end: datetime, bucket_seconds: float
) -> np.ndarray:
    """How many events fall in each bucket (alarms raised per hour, batches landed per day).

    Events outside [start, end) are ignored. Buckets are aligned on `start`, so daily buckets
    follow the calendar of start's time zone.
    """
    counts = np.zeros(bucket_count(start, end, bucket_seconds), dtype=float)
    for ts in timestamps:
        index = _index(ts, start, bucket_seconds)
        if 0 <= index < len(counts):
            counts[index] += 1
    return counts


def active_per_bucket(
    intervals: Iterable[tuple[datetime, datetime | None]],
    start: datetime,
    end: datetime,
    bucket_seconds: float,
) -> np.ndarray:
    """How many intervals overlap each bucket: alarms active per hour from raised_at/cleared_at.

    An interval counts in every bucket it overlaps, its end exclusive (an alarm cleared on the
    hour is not active in the next hour); an instantaneous one counts in the bucket it falls in;
    an open one (cleared_at None, still active) counts up to `end`. An interval that clears before
    it is raised is rejected: silently dropping it would hide a broken feed.
    """
    n = bucket_count(start, end, bucket_seconds)
    delta = np.zeros(n + 1, dtype=float)
    for raised, cleared in intervals:
        if cleared is not None and cleared < raised:
            raise ValueError(f"interval clears ({cleared}) before it is raised ({raised})")
        first = max(_index(raised, start, bucket_seconds), 0)
        if cleared is None:
            last = n - 1
        else:
            stop = (cleared - start).total_seconds() / bucket_seconds
            last = max(math.ceil(stop) - 1, _index(raised, start, bucket_seconds))
        last = min(last, n - 1)
        if first > last:
            continue  # wholly before start or after end
        delta[first] += 1
        delta[last + 1] -= 1
    return np.cumsum(delta[:n])


def mean_per_bucket(
    points: Iterable[tuple[datetime, float]], start: datetime, end: datetime, bucket_seconds: float
) -> np.ndarray:
    """The mean value per bucket, NaN where nothing was observed (reject rate per feed per day,
    lateness per day): a day without a batch is unknown, not a day with zero rejects."""
    n = bucket_count(start, end, bucket_seconds)
    sums, counts = np.zeros(n), np.zeros(n)
    for ts, value in points:
        index = _index(ts, start, bucket_seconds)
        if 0 <= index < n and not math.isnan(value):
            sums[index] += value
            counts[index] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def _index(ts: datetime, start: datetime, bucket_seconds: float) -> int:
    return math.floor((ts - start).total_seconds() / bucket_seconds)
