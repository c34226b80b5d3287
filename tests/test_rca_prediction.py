"""Next-day degradation prediction on a synthetic network: elements that pile up major and minor
alarms degrade the next day with some probability, among weekly seasonality, noise and alarms
that mean nothing. No services: the library is called directly."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from rca.prediction import (
    DegradationRule,
    ElementDay,
    ForecastReport,
    ForestSettings,
    build_dataset,
    evaluate,
    fit,
    split_by_day,
    train,
)

START = date(2024, 3, 1)
CORE_TYPES = ("msc", "smsc", "sgsn", "pgw")
WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 0.97, 0.9, 0.85)  # Monday first: weekends are quieter


def synthetic_network(n_elements: int = 200, n_days: int = 30, seed: int = 7) -> list[ElementDay]:
    """Element-days where degradation tomorrow is driven by today's alarm load.

    Each element carries a latent stress that flares up now and then and decays; stress raises
    major and minor alarms (and, rarely, a critical one). The chance of degrading the next day
    grows with the major and minor alarms of the last three days, with a critical alarm today and
    with being degraded today (faults persist). A degraded day loses 40–70 % of its CDRs or has
    its dropped-call rate jump. Warnings are pure noise, and ordinary days wander by a few per
    cent and dip at weekends.
    """
    rng = np.random.default_rng(seed)
    records = []
    for e in range(n_elements):
        element_type = CORE_TYPES[e % len(CORE_TYPES)]
        element_id = f"{element_type.upper()}-NWE-{e:04d}"
        volume = rng.lognormal(8.0, 0.5)
        stress = 0.0
        history: list[dict[str, int]] = []
        degraded = False
        for d in range(n_days):
            day = START + timedelta(days=d)
            stress = 0.6 * stress + (rng.exponential(2.0) if rng.random() < 0.08 else 0.0)
            alarms = {
                "critical": int(rng.poisson(0.01 + 0.05 * stress)),
                "major": int(rng.poisson(0.05 + 0.5 * stress)),
                "minor": int(rng.poisson(0.3 + 0.8 * stress)),
                "warning": int(rng.poisson(1.0)),
            }
            cdr_count = volume * WEEKDAY_FACTOR[day.weekday()] * rng.lognormal(0.0, 0.04)
            drop_rate = float(np.clip(rng.normal(0.01, 0.003), 0.0, 1.0))
            if degraded:
                if rng.random() < 0.6:
                    cdr_count *= rng.uniform(0.3, 0.6)
                else:
                    drop_rate = rng.uniform(0.04, 0.1)
                alarms["critical"] += int(rng.random() < 0.3)
            records.append(
                ElementDay(
                    element_id=element_id,
                    day=day,
                    element_type=element_type,
                    kpis={
                        "cdr_count": float(round(cdr_count)),
                        "drop_rate": drop_rate,
                        "answer_seizure_ratio": float(rng.normal(0.6, 0.02)),
                        "data_volume_mb": float(cdr_count * rng.lognormal(0.0, 0.1)),
                    },
                    alarms=alarms,
                )
            )
            history.append(alarms)
            recent = history[-3:]
            load = sum(a["major"] for a in recent) + 0.4 * sum(a["minor"] for a in recent)
            hazard = 0.01 + 0.06 * load + 0.2 * (alarms["critical"] > 0) + 0.25 * degraded
            degraded = rng.random() < min(hazard, 0.9)
    return records


@pytest.fixture(scope="module")
def network() -> list[ElementDay]:
    return synthetic_network()


@pytest.fixture(scope="module")
def report(network: list[ElementDay]) -> ForecastReport:
    return evaluate(network, test_days=5, seed=1)


def test_the_model_beats_the_naive_baseline_on_held_out_days(report: ForecastReport) -> None:
    assert report.n_test == 5 * 200
    assert 0.05 < report.base_rate < 0.4
    assert report.model.roc_auc > report.baseline.roc_auc + 0.05
    assert report.model.f1 > report.baseline.f1
    # class weights inflate the forest's probabilities, yet they score no worse than the
    # baseline's, which are plain training frequencies
    assert report.model.brier <= report.baseline.brier + 0.01
    assert report.adds_value()


def test_alarm_load_is_what_the_model_learns_from(report: ForecastReport) -> None:
    top = [name for name, _ in report.feature_importances[:5]]
    assert any(name.startswith(("alarms_major", "alarms_minor")) for name in top)
    assert len(report.feature_importances) == 10
    assert not any(name.startswith("alarms_warning") for name in top)


def test_the_report_states_its_rule_split_and_figures(report: ForecastReport) -> None:
    text = report.describe()
    assert "cdr_count more than 30% under its trailing 7-day median or drop_rate over 0.03" in text
    assert "degraded tomorrow if a critical alarm today" in text
    assert f"trained on {report.n_train} element-days" in text


def _scrambled(records: list[ElementDay], after: np.datetime64) -> list[ElementDay]:
    """The records with every KPI and alarm count of the days after `after` made up."""
    rng = np.random.default_rng(99)
    return [
        replace(
            r,
            kpis={k: v * rng.uniform(0.0, 3.0) for k, v in r.kpis.items()},
            alarms={s: int(rng.integers(0, 20)) for s in r.alarms},
        )
        if np.datetime64(r.day, "D") > after
        else r
        for r in records
    ]


def test_no_future_day_leaks_into_training(network: list[ElementDay]) -> None:
    train_rows, test_rows = split_by_day(build_dataset(network), test_days=5)
    first_test = test_rows.days.min()
    # every training label (day d + 1) is known by the end of the first held-out day
    assert (train_rows.days + 1).max() <= first_test
    # made-up data from the first held-out day on: features only look back, so none of the
    # training rows' features move, and only the last training day's labels (that day) may
    train_from, _ = split_by_day(build_dataset(_scrambled(network, first_test - 1)), 5)
    np.testing.assert_array_equal(train_rows.features, train_from.features)
    earlier = train_rows.days < train_rows.days.max()
    np.testing.assert_array_equal(train_rows.labels[earlier], train_from.labels[earlier])
    # made-up data after the first held-out day: training is untouched, and so is the model
    train_after, _ = split_by_day(build_dataset(_scrambled(network, first_test)), 5)
    np.testing.assert_array_equal(train_rows.features, train_after.features)
    np.testing.assert_array_equal(train_rows.labels, train_after.labels)
    settings = ForestSettings(n_estimators=30)
    before = fit(train_rows, seed=3, settings=settings)
    after = fit(train_after, seed=3, settings=settings)
    np.testing.assert_array_equal(
        before.predict_proba(test_rows.features), after.predict_proba(test_rows.features)
    )


def test_the_same_seed_gives_the_same_report(network: list[ElementDay]) -> None:
    subset = [r for r in network if r.element_id < "MSC-NWE-0100"]
    first = evaluate(subset, test_days=5, seed=5, settings=ForestSettings(n_estimators=30))
    assert first == evaluate(subset, test_days=5, seed=5, settings=ForestSettings(n_estimators=30))


def _series(cdr_counts: list[float], drop_rates: list[float] | None = None) -> list[ElementDay]:
    drop_rates = drop_rates or [0.01] * len(cdr_counts)
    return [
        ElementDay(
            "MSC-NWE-01",
            START + timedelta(days=d),
            "msc",
            {"cdr_count": c, "drop_rate": r},
        )
        for d, (c, r) in enumerate(zip(cdr_counts, drop_rates, strict=True))
    ]


def test_the_day_before_a_volume_drop_under_the_trailing_median_is_labelled_degraded() -> None:
    labels = build_dataset(_series([100, 100, 100, 100, 100, 65, 100, 100])).labels
    # day 4 is followed by 65 < 70 % of the median 100; the last day has no next day yet
    assert np.isnan(labels[:3]).all()  # too little history behind the next day
    assert labels[3] == 0.0 and labels[4] == 1.0 and labels[5] == 0.0
    assert math.isnan(labels[-1])


def test_the_rule_thresholds_are_parameters() -> None:
    records = _series([100, 100, 100, 100, 100, 75, 100], [0.01] * 6 + [0.05])
    default = build_dataset(records).labels
    stricter = build_dataset(records, rule=DegradationRule(volume_drop=0.2, rate_ceiling=0.06))
    assert default[4] == 0.0 and stricter.labels[4] == 1.0  # a 25 % drop
    assert default[5] == 1.0 and stricter.labels[5] == 0.0  # a 5 % dropped-call rate


def test_too_short_a_history_gives_no_label_rather_than_a_guess() -> None:
    labels = build_dataset(_series([100, 100, 100, 100, 50])).labels
    # the day after day 2 has three days behind it, under the four a baseline needs
    assert np.isnan(labels[:3]).all()
    assert labels[3] == 1.0


def test_a_missing_day_is_unknown_not_degraded() -> None:
    records = _series([100] * 8)
    del records[6]
    labels = build_dataset(records).labels
    assert math.isnan(labels[5])  # its next day has no row
    assert labels[4] == 0.0


def test_features_only_look_back() -> None:
    records = _series([100, 100, 100, 100, 100, 50, 100])
    dataset = build_dataset(records)
    ratio = dataset.column("cdr_count_vs_trailing_median")
    assert np.isnan(ratio[:4]).all() and ratio[4] == 1.0 and ratio[5] == 0.5
    change = dataset.column("cdr_count_day_change")
    assert change[5] == -0.5 and change[6] == 1.0


def test_alarm_windows_sum_the_last_one_three_and_seven_days() -> None:
    records = [replace(r, alarms={"major": 1}) for r in _series([100.0] * 9)]
    dataset = build_dataset(records)
    assert dataset.column("alarms_major_1d").tolist() == [1.0] * 9
    assert dataset.column("alarms_major_3d").tolist() == [1, 2, 3, 3, 3, 3, 3, 3, 3]
    assert dataset.column("alarms_major_7d").tolist() == [1, 2, 3, 4, 5, 6, 7, 7, 7]
    assert dataset.column("type_msc").tolist() == [1.0] * 9


def test_forecasts_explain_their_probability_and_flag_alarm_heavy_elements(
    network: list[ElementDay],
) -> None:
    model = train(network, seed=2)
    forecasts = model.forecast(network, top=3)
    last = max(r.day for r in network)
    assert len(forecasts) == 200
    assert all(f.as_of == last and f.day == last + timedelta(days=1) for f in forecasts)
    probabilities = [f.probability for f in forecasts]
    assert probabilities == sorted(probabilities, reverse=True)
    # the forecast's reasons: prior plus contributions is the probability, exactly
    rows = build_dataset(network)
    rows = rows.select(rows.days == rows.days.max())
    prior, contributions = model.contributions(rows)
    np.testing.assert_allclose(prior + contributions.sum(axis=1), model.probabilities(rows))
    top = forecasts[0]
    assert top.top_features and top.top_features[0].contribution > 0
    assert top.describe().startswith(f"{top.element_id}: ")
    # the five most likely carry far more major and minor alarm load than the five least
    load = {
        r.element_id: r.alarms["major"] + r.alarms["minor"]
        for r in network
        if r.day > last - timedelta(days=3)
    }
    heavy = sum(load[f.element_id] for f in forecasts[:5])
    light = sum(load[f.element_id] for f in forecasts[-5:])
    assert heavy > light


def test_a_single_class_training_set_is_refused() -> None:
    with pytest.raises(ValueError, match="single class"):
        evaluate(_series([100.0] * 12), test_days=2, settings=ForestSettings(n_estimators=5))


def test_a_warehouse_row_becomes_an_element_day() -> None:
    row = {
        "network_element_id": "MSC-NWE-01",
        "event_date": START,
        "element_type": "msc",
        "region": "north",
        "cdr_count": 1200,
        "answer_seizure_ratio": Decimal("0.6125"),  # numeric columns arrive as Decimal
        "drop_rate": None,
        "critical_alarms": 1,
        "major_alarms": None,
    }
    record = ElementDay.from_row(row)
    assert record.kpis["cdr_count"] == 1200.0 and math.isnan(record.kpis["drop_rate"])
    assert record.kpis["answer_seizure_ratio"] == 0.6125
    assert "region" not in record.kpis
    assert record.alarms == {"critical": 1, "major": 0, "minor": 0, "warning": 0}
