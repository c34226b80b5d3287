"""Dimensional attribution of a KPI or leakage change, after Adtributor (Bhagwan et al., 2014).

When a total moves (CDRs per hour fall, billed usage rises), the question is *where*: which
network element, region, service or hour carries the change. Each leaf row holds its dimension
values, the `actual` measure and the `forecast` (the baseline, e.g. the same hours of previous
days). For each dimension and each of its values (an *element*):

- explanatory power EP = (A_ij − F_ij) / (A − F): the share of the total change the element
  carries, signed, so an element that moved against the total has EP < 0;
- surprise S = Jensen–Shannon divergence between the element's expected share p = F_ij / F and
  its actual share q = A_ij / A: an element whose share of the traffic changed a lot is more
  surprising than one that moved with everything else, which is what separates a faulty
  element from a big one.

Per dimension, elements are taken most surprising first, skipping those below `T_eep`, until
their EP adds up to `T_EP`; a set that needs more than `max_values` elements is not a succinct
explanation and is dropped. Dimensions are ranked by the total surprise of their set.

Extension: a change can be concentrated on a combination (voice *in* NWE) while every single
dimension sees it smeared out (e.g. traffic moved between regions at the same time). When no
single dimension yields a set, pairs of dimensions are tried with value pairs as elements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

T_EP = 0.67  # the paper's default share of the change a set must explain
T_EEP = 0.1  # an element must explain at least this much to be part of a set
MAX_VALUES = 3  # succinctness: beyond this a set is a list, not an explanation
MIN_RELATIVE_CHANGE = 1e-6  # below this (|A − F| / max(|A|, |F|)) there is nothing to explain


@dataclass(frozen=True)
class ElementScore:
    """One element (a value, or a value pair) of a dimension (or dimension pair)."""

    values: tuple[object, ...]  # aligned with the dimensions scored
    actual: float
    expected: float
    explanatory_power: float
    surprise: float


@dataclass(frozen=True)
class Attribution:
    """A candidate explanation: a dimension (or pair) and the few elements that carry the change.

    `values` holds one tuple per element, aligned with `dimensions`. `share` is the part of the
    expected total those elements normally carry, so a reader sees at once that, say, 3% of the
    traffic explains 94% of the drop.
    """

    dimensions: tuple[str, ...]
    values: tuple[tuple[object, ...], ...]
    explanatory_power: float
    surprise: float
    actual: float
    expected: float
    delta: float
    share: float
    elements: tuple[ElementScore, ...] = ()

    def as_filters(self) -> list[dict[str, object]]:
        """One {dimension: value} filter per element, to drill down into the leaf rows."""
        return [dict(zip(self.dimensions, values, strict=True)) for values in self.values]

    def describe(self) -> str:
        """One line, e.g. `region=NWE, service_type=voice explains 94% of the drop (...)`."""
        direction = "drop" if self.delta < 0 else "rise"
        return (
            f"{self._where()} explains {self.explanatory_power:.0%} of the {direction} "
            f"(actual {_number(self.actual)} vs expected {_number(self.expected)})"
        )

    def _where(self) -> str:
        if len(self.dimensions) == 1:
            (dimension,) = self.dimensions
            labels = [str(v[0]) for v in self.values]
            if len(labels) == 1:
                return f"{dimension}={labels[0]}"
            return f"{dimension} in {{{', '.join(labels)}}}"
        parts = [
            ", ".join(f"{d}={v}" for d, v in zip(self.dimensions, values, strict=True))
            for values in self.values
        ]
        if len(parts) == 1:
            return parts[0]
        return " or ".join(f"({p})" for p in parts)


def attribute(
    rows: Iterable[Mapping[str, object] | object],
    dimensions: Sequence[str],
    *,
    actual: str = "actual",
    forecast: str = "forecast",
    ep_threshold: float = T_EP,
    element_ep_threshold: float = T_EEP,
    max_values: int = MAX_VALUES,
    top: int = 3,
    pairs: bool = True,
    min_relative_change: float = MIN_RELATIVE_CHANGE,
) -> list[Attribution]:
    """Rank the dimensions (or dimension pairs) whose few elements explain the total change.

    `rows` are leaf rows, mappings or objects with attributes (dataclasses), holding each of
    `dimensions` and the non-negative `actual` and `forecast` measures. Works the same for a
    drop and a rise (EP is relative to the signed total change). A missing (None) measure
    counts as 0, so a leaf that vanished or appeared can be passed as it is. Returns at most
    `top` attributions, most surprising first, and nothing when the total did not move or when
    no dimension (nor pair, if `pairs`) has a succinct set reaching `ep_threshold`; a set made of
    every value of its dimension is trivial and never returned.

    Like the paper, this assumes the caller already decided the total is anomalous: on a change
    that is only noise the sets are still computed, with EPs far from 1 and tiny surprise.
    """
    if not dimensions:
        raise ValueError("at least one dimension is needed")
    cube = _Cube.build(rows, dimensions, actual, forecast)
    total_a, total_f = float(cube.actual.sum()), float(cube.forecast.sum())
    if abs(total_a - total_f) <= min_relative_change * max(abs(total_a), abs(total_f)):
        return []  # also covers an empty input: no change, nothing to attribute
    thresholds = (ep_threshold, element_ep_threshold, max_values)
    groups: list[tuple[int, ...]] = [(i,) for i in range(len(dimensions))]
    found = _attributions(cube, groups, thresholds)
    if not found and pairs and len(dimensions) > 1:
        found = _attributions(cube, list(combinations(range(len(dimensions)), 2)), thresholds)
    return found[:top]


def score_elements(
    rows: Iterable[Mapping[str, object] | object],
    dimensions: Sequence[str],
    *,
    actual: str = "actual",
    forecast: str = "forecast",
) -> list[ElementScore]:
    """EP and surprise of every element of the joint `dimensions`, most surprising first.

    For inspection and drill-down: `attribute` uses the same scores, one dimension (or pair) at
    a time. EP is NaN when the total did not change.
    """
    cube = _Cube.build(rows, dimensions, actual, forecast)
    scores = _score(cube, tuple(range(len(dimensions))))
    return sorted(scores, key=lambda e: -e.surprise)


def js_surprise(p: np.ndarray | Sequence[float], q: np.ndarray | Sequence[float]) -> np.ndarray:
    """Per-element Jensen–Shannon term 0.5·(p·log(2p/(p+q)) + q·log(2q/(p+q))).

    Zeros are handled as limits (0·log 0 = 0): an element that vanished (q = 0) or appeared
    (p = 0) contributes 0.5·x·log 2 of its non-zero share x, the most a share x can be worth.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    m = p + q
    with np.errstate(divide="ignore", invalid="ignore"):
        tp = np.where(p > 0, p * np.log(2 * p / m), 0.0)
        tq = np.where(q > 0, q * np.log(2 * q / m), 0.0)
    return 0.5 * (tp + tq)


@dataclass(frozen=True)
class _Cube:
    """Leaf rows as integer codes per dimension plus the two measures, for bincount sums."""

    dimensions: tuple[str, ...]
    labels: tuple[tuple[object, ...], ...]  # per dimension, the value of each code
    codes: np.ndarray  # (rows, dimensions) int
    actual: np.ndarray
    forecast: np.ndarray

    @classmethod
    def build(
        cls,
        rows: Iterable[Mapping[str, object] | object],
        dimensions: Sequence[str],
        actual: str,
        forecast: str,
    ) -> _Cube:
        dims = tuple(dimensions)
        index: list[dict[object, int]] = [{} for _ in dims]
        codes: list[list[int]] = []
        a: list[float] = []
        f: list[float] = []
        for row in rows:
            codes.append(
                [idx.setdefault(_get(row, d), len(idx)) for d, idx in zip(dims, index, strict=True)]
            )
            a.append(_measure(row, actual))
            f.append(_measure(row, forecast))
        actual_arr, forecast_arr = np.asarray(a, dtype=float), np.asarray(f, dtype=float)
        measures = np.concatenate([actual_arr, forecast_arr])
        if not np.isfinite(measures).all() or (measures < 0).any():
            # shares (p, q) are only distributions for finite non-negative measures
            raise ValueError("actual and forecast must be finite and non-negative")
        return cls(
            dimensions=dims,
            labels=tuple(tuple(idx) for idx in index),
            codes=np.asarray(codes, dtype=np.int64).reshape(len(codes), len(dims)),
            actual=actual_arr,
            forecast=forecast_arr,
        )


def _get(row: Mapping[str, object] | object, key: str) -> object:
    return row[key] if isinstance(row, Mapping) else getattr(row, key)


def _measure(row: Mapping[str, object] | object, key: str) -> float:
    value = _get(row, key)
    return float(value) if value is not None else 0.0  # type: ignore[arg-type]


def _score(cube: _Cube, group: tuple[int, ...]) -> list[ElementScore]:
    """EP and surprise per element of the dimensions in `group` (one, or a pair)."""
    joint = np.zeros(len(cube.actual), dtype=np.int64)
    for i in group:  # mixed-radix code of the value combination
        joint = joint * len(cube.labels[i]) + cube.codes[:, i]
    elements, inverse = np.unique(joint, return_inverse=True)
    a_ij = np.bincount(inverse, weights=cube.actual, minlength=len(elements))
    f_ij = np.bincount(inverse, weights=cube.forecast, minlength=len(elements))
    total_a, total_f = a_ij.sum(), f_ij.sum()
    change = total_a - total_f
    with np.errstate(divide="ignore", invalid="ignore"):
        ep = (a_ij - f_ij) / change if change != 0 else np.full(len(elements), np.nan)
    p = f_ij / total_f if total_f > 0 else np.zeros_like(f_ij)
    q = a_ij / total_a if total_a > 0 else np.zeros_like(a_ij)
    surprise = js_surprise(p, q)
    return [
        ElementScore(
            values=_decode(cube, group, int(code)),
            actual=float(a_ij[k]),
            expected=float(f_ij[k]),
            explanatory_power=float(ep[k]),
            surprise=float(surprise[k]),
        )
        for k, code in enumerate(elements)
    ]


def _decode(cube: _Cube, group: tuple[int, ...], code: int) -> tuple[object, ...]:
    values = []
    for i in reversed(group):
        code, digit = divmod(code, len(cube.labels[i]))
        values.append(cube.labels[i][digit])
    return tuple(reversed(values))


def _candidate_set(
    scores: list[ElementScore], ep_threshold: float, element_ep_threshold: float, max_values: int
) -> list[ElementScore] | None:
    """The paper's greedy set: most surprising first, until the EP adds up to the threshold."""
    chosen: list[ElementScore] = []
    explained = 0.0
    for element in sorted(scores, key=lambda e: (-e.surprise, -e.explanatory_power)):
        if element.explanatory_power < element_ep_threshold:
            continue  # too small, or moved against the total
        chosen.append(element)
        explained += element.explanatory_power
        if explained >= ep_threshold:
            # every element of the dimension "explains" everything and says nothing
            return chosen if len(chosen) < len(scores) else None
        if len(chosen) >= max_values:
            return None  # not succinct: the change is spread over this dimension
    return None


def _attributions(
    cube: _Cube, groups: list[tuple[int, ...]], thresholds: tuple[float, float, int]
) -> list[Attribution]:
    total_f = float(cube.forecast.sum())
    found = []
    for group in groups:
        chosen = _candidate_set(_score(cube, group), *thresholds)
        if chosen is None:
            continue
        a = sum(e.actual for e in chosen)
        f = sum(e.expected for e in chosen)
        found.append(
            Attribution(
                dimensions=tuple(cube.dimensions[i] for i in group),
                values=tuple(e.values for e in chosen),
                explanatory_power=sum(e.explanatory_power for e in chosen),
                surprise=sum(e.surprise for e in chosen),
                actual=a,
                expected=f,
                delta=a - f,
                share=f / total_f if total_f > 0 else 0.0,
                elements=tuple(chosen),
            )
        )
    return sorted(found, key=lambda x: (-x.surprise, -x.explanatory_power, len(x.values)))


def _number(x: float) -> str:
    """Counts read as `2,050`; small fractional amounts keep two decimals."""
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.2f}"
