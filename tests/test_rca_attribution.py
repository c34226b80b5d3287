"""Dimensional attribution (Adtributor) on seeded synthetic CDR counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from rca.attribution import Attribution, attribute, js_surprise, score_elements

DIMENSIONS = ["network_element_id", "region", "service_type", "hour"]
REGIONS = ["NWE", "LON", "SCO", "MID"]
SERVICES = {"voice": 1.0, "sms": 0.6, "data": 2.0}

Fault = Callable[[str, str, str, int], bool]


def cdr_counts(seed: int, fault: Fault | None = None, factor: float = 0.2) -> list[dict]:
    """CDRs per element × service × hour: forecast from a daily profile, actual drawn around it.

    Elements are nested in regions (three per region), as in the OSS inventory. Leaves where
    `fault` holds have their actual rate multiplied by `factor`.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for region in REGIONS:
        for k in range(1, 4):
            element = f"MSC-{region}-{k:02d}"
            size = rng.lognormal(0.0, 0.4)
            for service, weight in SERVICES.items():
                for hour in range(24):
                    forecast = 200 * size * weight * (0.5 + np.sin(np.pi * hour / 24))
                    hit = fault is not None and fault(element, region, service, hour)
                    actual = rng.poisson(forecast * (factor if hit else 1.0))
                    rows.append(
                        {
                            "network_element_id": element,
                            "region": region,
                            "service_type": service,
                            "hour": hour,
                            "actual": float(actual),
                            "forecast": float(forecast * rng.normal(1.0, 0.01)),
                        }
                    )
    return rows


def true_share(rows: list[dict], fault: Fault, factor: float) -> float:
    """The injected deficit over the observed total change: the EP a perfect answer has."""
    injected = sum(
        r["forecast"] * (factor - 1)
        for r in rows
        if fault(r["network_element_id"], r["region"], r["service_type"], r["hour"])
    )
    return injected / sum(r["actual"] - r["forecast"] for r in rows)


def test_a_drop_on_one_network_element_is_attributed_to_that_element():
    def fault(element, region, service, hour):
        return element == "MSC-NWE-02"

    rows = cdr_counts(1, fault, factor=0.2)
    ranked = attribute(rows, DIMENSIONS)
    top = ranked[0]
    assert top.dimensions == ("network_element_id",)
    assert top.values == (("MSC-NWE-02",),)
    assert top.explanatory_power == pytest.approx(true_share(rows, fault, 0.2), abs=0.05)
    assert top.delta < 0 and top.share < 0.1  # a small element carries the whole drop
    # its region also "explains" the drop, but it is less surprising: the element is the cause
    assert ranked[1].dimensions == ("region",) and ranked[1].values == (("NWE",),)
    assert ranked[1].surprise < top.surprise
    assert top.describe().startswith("network_element_id=MSC-NWE-02 explains ")
    assert "of the drop" in top.describe()


def test_a_drop_on_two_elements_is_attributed_to_both_and_only_them():
    def fault(element, region, service, hour):
        return element in {"MSC-LON-01", "MSC-SCO-03"}

    rows = cdr_counts(3, fault, factor=0.0)
    top = attribute(rows, DIMENSIONS)[0]
    assert top.dimensions == ("network_element_id",)
    assert set(top.values) == {("MSC-LON-01",), ("MSC-SCO-03",)}
    assert top.actual == 0
    assert top.explanatory_power == pytest.approx(true_share(rows, fault, 0.0), abs=0.05)
    assert top.describe().startswith("network_element_id in {MSC-")


def test_an_over_billing_rise_on_one_service_is_attributed_to_it_and_reads_as_a_rise():
    def fault(element, region, service, hour):
        return service == "sms"

    rows = cdr_counts(3, fault, factor=2.5)
    top = attribute(rows, DIMENSIONS)[0]
    assert top.dimensions == ("service_type",) and top.values == (("sms",),)
    assert top.delta > 0
    assert top.explanatory_power == pytest.approx(true_share(rows, fault, 2.5), abs=0.05)
    assert "of the rise" in top.describe()


def test_a_drop_spread_over_the_day_is_not_blamed_on_any_hour():
    def fault(element, region, service, hour):
        return element == "MSC-MID-01"

    ranked = attribute(cdr_counts(5, fault, factor=0.3), DIMENSIONS)
    assert ranked and all(a.dimensions != ("hour",) for a in ranked)
    # nor on a set listing every service: that explains everything and says nothing
    assert all(len(a.values) < len(SERVICES) for a in ranked if a.dimensions == ("service_type",))


PAIR_REGIONS = ["NWE", "LON", "SCO", "MID", "WAL", "NIR"]
PAIR_SERVICES = ["voice", "sms", "data", "mms", "roaming", "vas"]


def masked_pair_drop(seed: int, drop: float = -12_000.0) -> tuple[list[dict], float]:
    """Voice in NWE drops while offsetting moves leave every region and service with 1/6 of it.

    The change per (region, service) cell is drop·(δ_NWE·δ_voice + x_r/S + y_s/R) with
    x_r = 1/R − δ_NWE and y_s = 1/S − δ_voice: each region's and each service's total change is
    drop/6, so no single dimension has a set of three values reaching 67%, while the NWE × voice
    cell carries 1 + 2/36 − 2/6 ≈ 72% of the change. Returns the rows and that true share.
    """
    rng = np.random.default_rng(seed)
    r, s = len(PAIR_REGIONS), len(PAIR_SERVICES)
    x = 1 / r - (np.arange(r) == 0)
    y = 1 / s - (np.arange(s) == 0)
    cell = drop * (np.outer(np.arange(r) == 0, np.arange(s) == 0) + x[:, None] / s + y / r)
    rows = [
        {
            "region": region,
            "service_type": service,
            "hour": hour,
            "actual": float(rng.poisson(500.0 + cell[i, j] / 24)),
            "forecast": 500.0,
        }
        for i, region in enumerate(PAIR_REGIONS)
        for j, service in enumerate(PAIR_SERVICES)
        for hour in range(24)
    ]
    return rows, cell[0, 0] / drop


def test_a_change_no_single_dimension_explains_is_attributed_to_a_pair():
    rows, truth = masked_pair_drop(0)
    dims = ["region", "service_type", "hour"]
    assert attribute(rows, dims, pairs=False) == []  # no single dimension is succinct
    ranked = attribute(rows, dims)
    top = ranked[0]
    assert top.dimensions == ("region", "service_type")
    assert top.values == (("NWE", "voice"),)
    assert top.as_filters() == [{"region": "NWE", "service_type": "voice"}]
    assert top.explanatory_power == pytest.approx(truth, abs=0.06)
    assert top.describe().startswith("region=NWE, service_type=voice explains ")


def test_a_total_that_did_not_change_yields_no_attribution():
    rows = cdr_counts(7)
    flat = [{**r, "actual": r["forecast"]} for r in rows]
    assert attribute(flat, DIMENSIONS) == []
    assert attribute([], DIMENSIONS) == []
    # shifting traffic between elements leaves the total, and so nothing to explain
    moved = [dict(r) for r in flat]
    moved[0]["actual"] += 50.0
    moved[1]["actual"] -= 50.0
    assert attribute(moved, DIMENSIONS) == []


def test_describe_reads_as_one_english_line_with_thousands_separators():
    attribution = Attribution(
        dimensions=("region", "service_type"),
        values=(("NWE", "voice"),),
        explanatory_power=0.94,
        surprise=0.02,
        actual=120.0,
        expected=2050.0,
        delta=-1930.0,
        share=0.03,
    )
    assert attribution.describe() == (
        "region=NWE, service_type=voice explains 94% of the drop (actual 120 vs expected 2,050)"
    )


@dataclass(frozen=True)
class Leaf:
    region: str
    billed: float
    rated: float


def test_dataclass_rows_and_vanished_leaves_are_accepted():
    leaves = [Leaf("NWE", 0.0, 400.0), Leaf("LON", 505.0, 500.0), Leaf("SCO", 498.0, 500.0)]
    (top,) = attribute(leaves, ["region"], actual="billed", forecast="rated")
    assert top.values == (("NWE",),) and top.explanatory_power == pytest.approx(400 / 397)


def test_surprise_is_zero_for_an_unchanged_share_and_finite_for_a_vanished_one():
    surprise = js_surprise([0.2, 0.3, 0.0, 0.5], [0.2, 0.0, 0.3, 0.5])
    assert surprise[0] == 0 and surprise[3] == 0
    assert surprise[1] == pytest.approx(0.5 * 0.3 * np.log(2))
    assert surprise[2] == pytest.approx(surprise[1])
    assert np.isfinite(surprise).all()


def test_element_scores_put_the_faulty_element_first_by_surprise():
    rows = cdr_counts(11, lambda e, r, s, h: e == "MSC-SCO-02", factor=0.1)
    scores = score_elements(rows, ["network_element_id"])
    assert scores[0].values == ("MSC-SCO-02",)
    assert sum(s.explanatory_power for s in scores) == pytest.approx(1.0)


def test_negative_measures_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        attribute([{"region": "NWE", "actual": -1.0, "forecast": 3.0}], ["region"])
