"""Change points, trends and window comparisons on seeded synthetic KPI series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from rca.trends import change_points, trend, window_change

DAY0 = dt.date(2026, 9, 1)
HOUR0 = dt.datetime(2026, 10, 1)


def daily(values: np.ndarray) -> list[tuple[dt.date, float]]:
    return [(DAY0 + dt.timedelta(days=k), float(v)) for k, v in enumerate(values)]


def hourly_cdrs(rng: np.random.Generator, days: int) -> np.ndarray:
    """CDRs per hour with a daily profile: quiet at night, a peak in the afternoon."""
    hours = np.arange(24 * days)
    profile = 1000 * (0.3 + np.sin(np.pi * (hours % 24) / 24))
    return rng.poisson(profile).astype(float)


def test_a_single_step_drop_in_a_noisy_series_is_found_where_it_happened():
    hits = 0
    for seed in range(50):
        y = np.random.default_rng(seed).normal(1000, 40, 120)
        y[70:] -= 80  # an 8% drop, 2 noise σ: lost day by day, clear over a segment
        found = change_points(y)
        if len(found) == 1 and abs(found[0].index - 70) <= 5:
            hits += 1
    assert hits >= 47

    y = np.random.default_rng(0).normal(1000, 40, 120)
    y[70:] *= 0.7
    (drop,) = change_points(daily(y))
    assert drop.index == 70 and drop.time == DAY0 + dt.timedelta(days=70)
    assert drop.previous_time == DAY0 + dt.timedelta(days=69)
    assert drop.relative_change == pytest.approx(-0.3, abs=0.03)
    assert drop.mean_before == pytest.approx(1000, rel=0.02)
    assert drop.mean_after == pytest.approx(700, rel=0.02)
    assert drop.score > 10
    assert drop.describe() == "mean fell 30% at 2026-11-10 (from 1,003 to 702)"


def test_pure_noise_yields_no_change_point_in_most_seeds():
    gaussian = sum(
        not change_points(np.random.default_rng(seed).normal(1000, 40, 120)) for seed in range(100)
    )
    assert gaussian >= 95
    # count data too: Poisson noise of daily totals of a small element
    counts = sum(
        not change_points(np.random.default_rng(seed).poisson(300, 120)) for seed in range(100)
    )
    assert counts >= 95


def test_an_outage_and_its_recovery_are_two_change_points():
    y = np.random.default_rng(4).normal(1000, 40, 120)
    y[30:70] -= 150
    fell, recovered = change_points(y)
    assert abs(fell.index - 30) <= 1 and abs(recovered.index - 70) <= 1
    assert fell.mean_after < fell.mean_before and recovered.mean_after > recovered.mean_before
    assert fell.mean_after == pytest.approx(recovered.mean_before)
    assert recovered.relative_change == pytest.approx(150 / 850, abs=0.03)


def test_missing_days_and_values_do_not_shift_the_reported_time():
    y = np.random.default_rng(1).normal(1000, 40, 90)
    y[40:] *= 0.7
    series = daily(y)
    series[10] = (series[10][0], float("nan"))
    series[50] = (series[50][0], None)  # type: ignore[assignment]
    del series[38:41]  # the first three days of the new level never arrived
    (drop,) = change_points(series[::-1])  # order does not matter either
    assert drop.index == 41 and drop.time == DAY0 + dt.timedelta(days=41)
    assert drop.previous_time == DAY0 + dt.timedelta(days=37)  # the shift is in between


def test_a_constant_or_too_short_series_has_no_change_point():
    assert change_points([5.0] * 50) == []
    assert change_points([1.0, 9.0, 1.0, 9.0]) == []
    assert change_points([]) == []


def test_a_noise_free_step_is_found_even_though_the_mad_is_zero():
    (step,) = change_points([10.0] * 20 + [4.0] * 20)
    assert step.index == 20 and step.relative_change == pytest.approx(-0.6)


def test_a_rising_series_has_a_theil_sen_slope_whose_interval_covers_the_truth():
    y = np.random.default_rng(2).normal(100, 5, 60) + 0.4 * np.arange(60)
    rising = trend(daily(y))
    assert rising.direction == "rising" and rising.p_value < 1e-6
    assert rising.slope_low <= 0.4 <= rising.slope_high
    assert rising.slope == pytest.approx(0.4, abs=0.1)
    assert rising.relative_slope == pytest.approx(0.4 / np.mean(y), abs=0.001)
    assert rising.describe().startswith("rising 0.4% of the mean per step")


def test_a_falling_trend_survives_an_outage_that_would_tilt_least_squares():
    y = np.random.default_rng(3).normal(500, 10, 60) - 1.0 * np.arange(60)
    y[5:8] = 0.0  # an early outage: least squares would see a much shallower fall
    falling = trend(y)
    assert falling.direction == "falling"
    assert falling.slope == pytest.approx(-1.0, abs=0.2)
    assert np.polyfit(np.arange(60), y, 1)[0] > -0.6  # what an ordinary fit would report


def test_noise_is_a_flat_trend_in_most_seeds():
    flat = sum(
        trend(np.random.default_rng(seed).normal(100, 5, 60)).direction == "flat"
        for seed in range(100)
    )
    assert flat >= 90


def test_a_window_drop_is_measured_against_the_same_hours_of_previous_days():
    values = hourly_cdrs(np.random.default_rng(5), days=14)
    incident = slice(24 * 13 + 9, 24 * 13 + 15)  # 09:00 to 15:00 on the last day
    values[incident] *= 0.5
    series = [(HOUR0 + dt.timedelta(hours=k), v) for k, v in enumerate(values)]
    start, end = HOUR0 + dt.timedelta(days=13, hours=9), HOUR0 + dt.timedelta(days=13, hours=15)

    seasonal = window_change(series, start, end, period=dt.timedelta(days=1), periods=7)
    assert seasonal.relative_change == pytest.approx(-0.5, abs=0.03)
    assert seasonal.n == 6 and seasonal.baseline_n == 42 and seasonal.p_value < 1e-6
    assert window_change(series, start, end, period=24, periods=7) == seasonal
    # the six hours just before are the quiet morning: that comparison understates the drop
    naive = window_change(series, start, end)
    assert naive.relative_change is not None and naive.relative_change > -0.4
    assert seasonal.describe().endswith("vs 1,275 before (-51%)")


def test_a_window_without_incident_matches_its_baseline():
    values = hourly_cdrs(np.random.default_rng(6), days=14)
    series = list(enumerate(values))
    quiet = window_change(series, 24 * 13 + 9, 24 * 13 + 15, period=24, periods=7)
    assert quiet.relative_change == pytest.approx(0.0, abs=0.03)
    assert quiet.p_value > 0.01


def test_windows_from_the_change_point_on_say_since_when_the_kpi_is_down():
    y = np.random.default_rng(7).normal(1000, 40, 60)
    y[45:] *= 0.8
    series = daily(y)
    (drop,) = change_points(series)
    since = window_change(series, drop.time, DAY0 + dt.timedelta(days=60))
    before = window_change(series, drop.previous_time, drop.time)
    assert since.relative_change == pytest.approx(-0.2, abs=0.04)
    assert before.relative_change == pytest.approx(0.0, abs=0.1)


def test_duplicate_or_uneven_times_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        trend([(1, 1.0), (1, 2.0), (2, 3.0)])
    with pytest.raises(ValueError, match="evenly"):
        change_points([(0, 1.0), (2, 1.0), (3, 1.0), (4.5, 1.0)])
    with pytest.raises(ValueError, match="baseline"):
        window_change([(k, 1.0) for k in range(10)], 0, 3)
