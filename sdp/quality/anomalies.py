"""Anomalies in the daily metric history: a robust, week-aware baseline per series, and a
multivariate detector over each feed's day profile.

Univariate: each (metric, dimension) series is compared day by day with a baseline from its
other days. With three weeks or more of history the baseline is the same weekday in other weeks;
with less, the other days scaled by a weekday factor learnt across every series of the metric
(all elements dip on Sunday together; one element dipping alone is the anomaly). The score is a
robust z: (observed - median) / (1.4826 MAD), the MAD floored per metric so that a flat series
does not turn noise into alarms.

Multivariate: scikit-learn's IsolationForest over each feed-day's robust z of volume, rejects,
lateness, columns off the contract and null rates: a day that is a little off on several counts
at once stands out even when no single metric crosses its threshold.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sdp.quality.metrics import SEASONAL, MetricPoint

Z_THRESHOLD = 4.0
MIN_DAYS = 4  # shorter series have no baseline worth the name
SAME_WEEKDAY_WEEKS = 2  # other weeks needed before the weekday baseline replaces the factor
ABSOLUTE_FLOOR = {  # the smallest deviation (in the metric's unit) a z of 1 stands for
    "reject_rate": 0.005,
    "lateness_hours": 1.0,
    "columns_off_contract": 0.25,
    "invalid_email_rate": 0.01,
    "invalid_phone_rate": 0.01,
    "leakage_pct": 0.5,
    "answer_seizure_ratio": 0.02,
    "drop_rate": 0.01,
    "critical_alarms": 0.25,
}
RELATIVE_FLOOR = 0.03  # volumes: 3 % of the expected value
NULL_RATE_FLOOR = 0.02
FEED_FEATURES = ("rows_landed", "reject_rate", "lateness_hours", "columns_off_contract")
Z_CAP = 10.0
CONTAMINATION = 0.02


@dataclass(frozen=True)
class Anomaly:
    metric: str
    dimension: str
    day: date
    observed: float
    expected: float
    expected_low: float
    expected_high: float
    score: float  # robust z, or the isolation forest's outlier score
    method: str  # "robust_z" or "isolation_forest"


def _floor(metric: str, expected: float, support: int | None) -> float:
    # a rate over few rows moves by whole rows: never finer than the widest binomial error
    sampling = 0.5 / math.sqrt(support) if support else 0.0
    if metric.startswith("null_rate:"):
        return max(NULL_RATE_FLOOR, sampling)
    if metric in ABSOLUTE_FLOOR:
        return max(ABSOLUTE_FLOOR[metric], sampling)
    return max(RELATIVE_FLOOR * abs(expected), 1.0)


def _series(points: list[MetricPoint]) -> dict[tuple[str, str], dict[date, float]]:
    series: dict[tuple[str, str], dict[date, float]] = defaultdict(dict)
    for p in points:
        series[(p.metric, p.dimension)][p.day] = p.value
    return series


def _support(points: list[MetricPoint]) -> dict[tuple[str, str, date], int]:
    return {(p.metric, p.dimension, p.day): p.support for p in points if p.support}


def weekday_factors(
    series: dict[tuple[str, str], dict[date, float]],
) -> dict[tuple[str, int], float]:
    """Per seasonal metric and weekday: the median ratio of a day to its series' median."""
    ratios: dict[tuple[str, int], list[float]] = defaultdict(list)
    for (metric, _), values in series.items():
        if metric not in SEASONAL or len(values) < MIN_DAYS:
            continue
        middle = statistics.median(values.values())
        if middle <= 0:
            continue
        for day, value in values.items():
            ratios[(metric, day.weekday())].append(value / middle)
    return {key: statistics.median(r) for key, r in ratios.items() if len(r) >= 3}


@dataclass(frozen=True)
class _Judged:
    metric: str
    dimension: str
    day: date
    observed: float
    expected: float
    scale: float

    @property
    def z(self) -> float:
        return (self.observed - self.expected) / self.scale


def _judge(
    metric: str,
    dimension: str,
    values: dict[date, float],
    factors: dict[tuple[str, int], float],
    support: dict[tuple[str, str, date], int],
) -> list[_Judged]:
    judged = []
    for day, observed in values.items():
        same_weekday = [v for d, v in values.items() if d != day and d.weekday() == day.weekday()]
        if len(same_weekday) >= SAME_WEEKDAY_WEEKS:
            baseline = same_weekday
        else:
            f = factors.get((metric, day.weekday()), 1.0)
            baseline = [
                v / factors.get((metric, d.weekday()), 1.0) * f
                for d, v in values.items()
                if d != day
            ]
        expected = statistics.median(baseline)
        mad = statistics.median(abs(b - expected) for b in baseline) * 1.4826
        scale = max(mad, _floor(metric, expected, support.get((metric, dimension, day))))
        judged.append(_Judged(metric, dimension, day, observed, expected, scale))
    return judged


def _isolation_forest(judged: list[_Judged]) -> list[Anomaly]:
    from sklearn.ensemble import IsolationForest

    profiles: dict[tuple[str, date], dict[str, float]] = defaultdict(dict)
    for j in judged:
        if "/" in j.dimension or "." in j.dimension:  # a feed: source.entity[/element]
            feature = "null_rates" if j.metric.startswith("null_rate:") else j.metric
            if feature in FEED_FEATURES or feature == "null_rates":
                z = max(-Z_CAP, min(Z_CAP, j.z))
                current = profiles[(j.dimension, j.day)].get(feature, 0.0)
                profiles[(j.dimension, j.day)][feature] = max(current, abs(z), key=abs)
    keys = [k for k, v in profiles.items() if "rows_landed" in v]
    if len(keys) < 20:
        return []
    features = (*FEED_FEATURES, "null_rates")
    matrix = [[profiles[k].get(f, 0.0) for f in features] for k in keys]
    forest = IsolationForest(n_estimators=200, contamination=CONTAMINATION, random_state=0)
    labels = forest.fit_predict(matrix)
    scores = -forest.score_samples(matrix)
    inliers = [s for s, label in zip(scores, labels, strict=True) if label == 1]
    low, high = min(inliers), max(inliers)
    return [
        Anomaly(
            metric="feed_profile",
            dimension=dimension,
            day=day,
            observed=float(score),
            expected=float(statistics.median(inliers)),
            expected_low=float(low),
            expected_high=float(high),
            score=float(score),
            method="isolation_forest",
        )
        for (dimension, day), label, score in zip(keys, labels, scores, strict=True)
        if label == -1
    ]


def detect(points: list[MetricPoint]) -> list[Anomaly]:
    """Every anomalous metric-day, univariate and multivariate, strongest first."""
    series = _series(points)
    factors = weekday_factors(series)
    support = _support(points)
    judged = [
        j
        for (metric, dimension), values in series.items()
        if len(values) >= MIN_DAYS
        for j in _judge(metric, dimension, values, factors, support)
    ]
    found = [
        Anomaly(
            metric=j.metric,
            dimension=j.dimension,
            day=j.day,
            observed=j.observed,
            expected=j.expected,
            expected_low=j.expected - Z_THRESHOLD * j.scale,
            expected_high=j.expected + Z_THRESHOLD * j.scale,
            score=j.z,
            method="robust_z",
        )
        for j in judged
        if abs(j.z) >= Z_THRESHOLD
    ]
    found += _isolation_forest(judged)
    return sorted(found, key=lambda a: -abs(a.score))
