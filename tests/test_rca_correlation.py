"""Lagged correlation of a KPI with candidate drivers, on seeded synthetic hourly series: a month
of an MSC's CDR count with a daily cycle, alarms that cut it two hours later, and drivers that
mean nothing. No services: the library is called directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import signal, stats

from rca.correlation import (
    Correlation,
    active_per_bucket,
    adjust_p_values,
    correlate,
    events_per_bucket,
    lagged_pairs,
    mean_per_bucket,
)

START = datetime(2024, 3, 1, tzinfo=UTC)
HOURS = 30 * 24
END = START + timedelta(hours=HOURS)
HOUR = 3600


def random_alarms(rng: np.random.Generator, count: int) -> list[tuple[datetime, datetime]]:
    """Alarm intervals raised at random minutes of the month, lasting 20 minutes to 4 hours."""
    raised = rng.uniform(0, HOURS * 60, count)
    minutes = rng.uniform(20, 240, count)
    return [
        (START + timedelta(minutes=float(r)), START + timedelta(minutes=float(r + m)))
        for r, m in zip(raised, minutes, strict=True)
    ]


def cdr_count(rng: np.random.Generator, causal_alarms: np.ndarray, lag: int) -> np.ndarray:
    """Hourly CDRs: a daily cycle, noise, and 150 fewer per active alarm `lag` hours earlier."""
    hour = np.arange(HOURS) % 24
    series = 1000 + 400 * np.sin((hour - 6) / 24 * 2 * np.pi) + rng.normal(0, 40, HOURS)
    series[lag:] -= 150 * causal_alarms[: HOURS - lag]
    return series


@pytest.fixture(scope="module")
def alarm_scenario() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(42)
    causal = active_per_bucket(random_alarms(rng, 40), START, END, HOUR)
    drivers = {"critical alarms on MSC-NWE-01": causal}
    for n in range(2, 22):
        drivers[f"critical alarms on MSC-NWE-{n:02d}"] = active_per_bucket(
            random_alarms(rng, 40), START, END, HOUR
        )
    return cdr_count(rng, causal, lag=2), drivers


def test_alarms_leading_a_drop_by_two_hours_are_found_at_lag_two(
    alarm_scenario: tuple[np.ndarray, dict[str, np.ndarray]],
) -> None:
    target, drivers = alarm_scenario
    found = correlate(target, drivers, max_lag=24, season=24, target_name="CDR count")
    top, others = found[0], found[1:]
    assert top.driver == "critical alarms on MSC-NWE-01"
    assert top.best_lag == 2
    assert top.r < -0.7 and top.spearman < -0.4
    assert top.adjusted_p < 1e-50
    assert top.n == HOURS - 2
    assert top.describe().startswith(
        f"critical alarms on MSC-NWE-01 lead the CDR count drop by 2 h, r = −{abs(top.r):.2f}"
    )
    # the other elements' alarms only overlap it by chance: a fraction of its strength at best
    assert len(others) == 20
    assert all(abs(c.r) < abs(top.r) / 3 for c in others)


def test_removing_the_daily_cycle_brings_out_a_driver_it_drowns(
    alarm_scenario: tuple[np.ndarray, dict[str, np.ndarray]],
) -> None:
    target, drivers = alarm_scenario
    causal = "critical alarms on MSC-NWE-01"
    raw = correlate(target, drivers, max_lag=24)
    cycle_removed = correlate(target, drivers, max_lag=24, season=24)
    # the daily swing of ±400 CDRs is noise to the alarms: it dilutes r, and its hour-to-hour
    # memory leaves few independent points, so the true driver barely stands out
    before = next(c for c in raw if c.driver == causal)
    after = next(c for c in cycle_removed if c.driver == causal)
    assert abs(before.r) < 0.4 and before.adjusted_p > 1e-6
    assert after.r < -0.7 and after.adjusted_p < 1e-50
    assert after.n_effective is not None and before.n_effective is not None
    assert after.n_effective > 2 * before.n_effective


def test_slowly_wandering_series_are_not_taken_for_drivers_of_each_other() -> None:
    rng = np.random.default_rng(21)

    def wander() -> np.ndarray:  # each hour keeps 95 % of the last: AR(1), like a queue backlog
        return signal.lfilter([1.0], [1.0, -0.95], rng.normal(size=HOURS))

    target = wander()
    drivers = {f"backlog {i}": wander() for i in range(20)}
    naive = correlate(target, drivers, max_lag=6, autocorrelation=False)
    corrected = correlate(target, drivers, max_lag=6)
    assert sum(c.significant() for c in naive) >= 10  # n = 720 treated as 720 independent hours
    assert not any(c.significant() for c in corrected)
    assert all(c.n_effective is not None and c.n_effective < 0.1 * c.n for c in corrected)


def test_independent_noise_is_not_significant_after_correction() -> None:
    rng = np.random.default_rng(3)
    target = rng.normal(size=HOURS)
    drivers = {f"noise {i}": rng.normal(size=HOURS) for i in range(40)}
    for correction in ("bh", "bonferroni"):
        found = correlate(target, drivers, max_lag=24, correction=correction)
        assert len(found) == 40
        assert min(c.p_value for c in found) < 0.01  # 1,000 tests: chance alone clears 0.01
        assert not any(c.significant(0.05) for c in found)


def test_p_values_agree_with_scipy_on_the_overlap_despite_gaps_and_ties() -> None:
    rng = np.random.default_rng(5)
    driver = rng.poisson(0.5, 200).astype(float)  # counts: many ties
    target = 100 - 5 * np.r_[np.zeros(3), driver[:-3]] + rng.normal(0, 3, 200)
    driver[rng.choice(200, 30, replace=False)] = np.nan
    target[rng.choice(200, 20, replace=False)] = np.nan
    (found,) = correlate(
        target, {"alarms": driver}, max_lag=5, correction="bonferroni", autocorrelation=False
    )
    x, y = lagged_pairs(driver, target, found.best_lag)
    pearson, spearman = stats.pearsonr(x, y), stats.spearmanr(x, y)
    assert found.best_lag == 3 and found.n == len(x)
    assert found.r == pytest.approx(pearson.statistic)
    assert found.p_value == pytest.approx(pearson.pvalue, rel=1e-6)
    assert found.spearman == pytest.approx(spearman.statistic)
    assert found.adjusted_p == pytest.approx(min(1.0, pearson.pvalue * 6), rel=1e-6)


def test_gaps_shrink_the_overlap_and_too_short_an_overlap_is_not_tested() -> None:
    rng = np.random.default_rng(8)
    target = rng.normal(size=48)
    sparse_driver = np.full(48, np.nan)
    sparse_driver[:10] = rng.normal(size=10)  # 10 known points, under the 12 required
    gappy_driver = rng.normal(size=48)
    gappy_driver[::4] = np.nan
    found = correlate(
        target, {"sparse": sparse_driver, "gappy": gappy_driver, "flat": np.ones(48)}, max_lag=0
    )
    assert [c.driver for c in found] == ["gappy"]  # a constant driver cannot correlate either
    assert found[0].n == 36


def test_a_driver_that_trails_the_kpi_is_found_at_a_negative_lag_only_when_asked() -> None:
    rng = np.random.default_rng(11)
    target = rng.normal(size=HOURS)
    consequence = np.r_[np.zeros(3), target[:-3]] * 2 + rng.normal(0, 0.5, HOURS)
    (forward,) = correlate(target, {"tickets opened": consequence}, max_lag=6)
    (both,) = correlate(target, {"tickets opened": consequence}, max_lag=6, include_negative=True)
    assert not forward.significant()
    assert both.best_lag == -3 and both.r > 0.9 and both.significant()
    assert both.describe().startswith("tickets opened follow the KPI rise by 3 h")


def test_a_shared_trend_correlates_levels_but_not_differences() -> None:
    rng = np.random.default_rng(13)
    trend = np.linspace(0, 50, HOURS)
    target = trend + rng.normal(0, 2, HOURS)
    unrelated = 0.5 * trend + rng.normal(0, 2, HOURS)
    (levels,) = correlate(target, {"growth elsewhere": unrelated}, max_lag=3)
    (changes,) = correlate(target, {"growth elsewhere": unrelated}, max_lag=3, difference=True)
    assert levels.significant() and levels.r > 0.9
    assert not changes.significant()


def test_bonferroni_counts_every_driver_and_lag_and_bh_is_never_stricter() -> None:
    rng = np.random.default_rng(17)
    raw = rng.uniform(0, 1, 50) ** 3
    bonferroni, bh = adjust_p_values(raw, "bonferroni"), adjust_p_values(raw, "bh")
    np.testing.assert_allclose(bonferroni, np.minimum(raw * 50, 1.0))
    assert (bh <= bonferroni + 1e-12).all() and (bh >= raw - 1e-12).all()
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_p_values(raw, "holm")  # type: ignore[arg-type]


def test_series_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="align them"):
        correlate(np.zeros(24), {"short": np.zeros(23)})


def test_describe_reads_as_one_english_line() -> None:
    alarms = Correlation("critical alarms on MSC-NWE-01", 1, -0.912, -0.88, 1e-40, 2e-38, 719)
    assert alarms.describe() == (
        "critical alarms on MSC-NWE-01 lead the KPI drop by 1 h, r = −0.91"
        " (Spearman −0.88, adjusted p = 2e-38, n = 719)"
    )
    rejects = Correlation(
        "reject rate of cdr.records", 2, 0.4, 0.35, 0.001, 0.02, 30, "dropped-call rate", "d"
    )
    assert rejects.describe().startswith(
        "reject rate of cdr.records leads the dropped-call rate rise by 2 d, r = 0.40"
    )
    same_hour = Correlation("batch lateness", 0, -0.5, -0.5, 0.01, 0.03, 30, "billed amount")
    assert same_hour.describe().startswith("batch lateness coincides with the billed amount drop,")
    remembering = Correlation("late batches", 3, 0.6, 0.5, 1e-9, 1e-7, 700, n_effective=120.4)
    assert remembering.describe().endswith("n = 700, worth 120 independent)")


def test_an_alarm_counts_in_every_hour_it_is_active() -> None:
    def at(hour: float) -> datetime:
        return START + timedelta(hours=hour)

    counts = active_per_bucket(
        [
            (at(1.5), at(3.0)),  # hours 1 and 2: cleared on the hour, not active in hour 3
            (at(2.25), at(2.25)),  # raised and cleared at once: still an alarm in hour 2
            (at(4.9), None),  # never cleared: active to the end of the window
            (at(-2.0), at(0.5)),  # raised before the window: counts from its first hour
            (at(-5.0), at(-1.0)),  # wholly before the window
            (at(8.0), at(9.0)),  # wholly after it
        ],
        START,
        at(7),
        HOUR,
    )
    assert counts.tolist() == [1, 1, 2, 0, 1, 1, 1]


def test_an_alarm_clearing_before_it_is_raised_is_rejected() -> None:
    with pytest.raises(ValueError, match="before it is raised"):
        active_per_bucket([(START + timedelta(hours=2), START)], START, END, HOUR)


def test_events_and_batch_figures_become_daily_series() -> None:
    def day(d: float) -> datetime:
        return START + timedelta(days=d)

    raised = events_per_bucket([day(0.1), day(0.9), day(2.5), day(9)], START, day(4), 86400)
    assert raised.tolist() == [2, 0, 1, 0]
    reject_rate = mean_per_bucket(
        [(day(0.2), 0.01), (day(0.7), 0.03), (day(2.1), 0.5)], START, day(4), 86400
    )
    # a day without a batch is unknown, not a day without rejects
    np.testing.assert_array_equal(reject_rate, [0.02, np.nan, 0.5, np.nan])


def test_a_single_burst_makes_a_high_r_but_not_a_high_spearman() -> None:
    rng = np.random.default_rng(23)
    target = rng.normal(1000, 20, HOURS)
    burst = np.zeros(HOURS)
    burst[400] = 30.0  # one alarm storm, an hour before one deep dip
    target[401] -= 900
    drivers = {"alarm storm": burst + rng.normal(0, 0.05, HOURS)}
    (by_pearson,) = correlate(target, drivers, max_lag=3)
    (by_spearman,) = correlate(target, drivers, max_lag=3, method="spearman")
    assert by_pearson.best_lag == 1 and by_pearson.r < -0.5 and by_pearson.significant()
    assert abs(by_pearson.spearman) < 0.1  # one point of 719 carries it: rank it and it is gone
    assert not by_spearman.significant()
