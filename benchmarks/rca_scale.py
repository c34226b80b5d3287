"""RCA analysis time at scale: 30 days × 1,000 network elements, hourly.

Synthetic observations of that size (720,000 element-hours, alarms, exceptions spread over
plans and elements with a few injected incidents, daily batches per element) go through the
whole analysis (`rca.findings.analyze`: attribution, drop detection through the topology,
feed checks), then the next-day degradation forecast is evaluated on the same elements. Prints
each phase's seconds and peak memory, and whether the injected incidents were found.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from rca.findings import Observations, analyze
from rca.prediction import ElementDay, evaluate

START = datetime(2026, 10, 1, tzinfo=UTC)
REGIONS = ("LON", "NWE", "MID", "SCO", "SWE", "YRK")
PLANS = ("SIMO-5GB", "SIMO-30GB", "UNL-PLUS", "BIZ-PRO", "BIZ-ESSENTIAL")


def synthetic(elements: int, days: int, seed: int) -> tuple[Observations, list[ElementDay]]:
    rng = np.random.default_rng(seed)
    ids = [f"NE-{i:04d}" for i in range(elements)]
    region = {e: REGIONS[i % len(REGIONS)] for i, e in enumerate(ids)}
    inventory = [
        {"network_element_id": e, "region": region[e], "site_id": f"SITE-{i // 4:04d}"}
        for i, e in enumerate(ids)
    ]
    level = rng.uniform(20, 200, elements)
    profile = 0.6 + 0.4 * np.sin(np.arange(24) / 24 * 2 * np.pi - np.pi / 2) ** 2
    drop_element, drop_hour = 17, 9 * 24 + 14  # day 10, 14:00, three hours
    hourly, alarms = [], []
    # degradations the forecast should see coming: major alarms the day before half the traffic
    degraded = {(i, d) for i in range(elements) for d in range(1, days) if rng.random() < 0.04}
    for i, d in degraded:
        for k in range(int(rng.integers(2, 5))):
            t = START + timedelta(days=d - 1, hours=int(rng.integers(24)))
            alarms.append(
                {
                    "alarm_id": f"ALM-DEG-{i}-{d}-{k}",
                    "network_element_id": ids[i],
                    "severity": "major",
                    "alarm_type": "DEGRADED",
                    "raised_at": t,
                    "cleared_at": t + timedelta(hours=2),
                }
            )
    for i, e in enumerate(ids):
        rate = level[i] * np.tile(profile, days)
        for d in (d for j, d in degraded if j == i):
            rate[d * 24 : (d + 1) * 24] *= 0.5
        counts = rng.poisson(rate)
        if i == drop_element:
            counts[drop_hour : drop_hour + 3] = 0
            alarms.append(
                {
                    "alarm_id": "ALM-DROP",
                    "network_element_id": e,
                    "severity": "critical",
                    "alarm_type": "LINK_DOWN",
                    "raised_at": START + timedelta(hours=drop_hour),
                    "cleared_at": START + timedelta(hours=drop_hour + 3),
                }
            )
        hourly += [
            {"hour": START + timedelta(hours=h), "network_element_id": e, "cdrs": int(c)}
            for h, c in enumerate(counts)
        ]
    for _ in range(elements * days // 10):  # background alarms
        t = START + timedelta(hours=int(rng.integers(days * 24)))
        alarms.append(
            {
                "alarm_id": f"ALM-{len(alarms)}",
                "network_element_id": ids[int(rng.integers(elements))],
                "severity": str(rng.choice(["major", "minor", "warning"])),
                "alarm_type": "NOISE",
                "raised_at": t,
                "cleared_at": t + timedelta(hours=1),
            }
        )
    expected, exceptions = [], []
    for d in range(days):
        day = (START + timedelta(days=d)).date()
        for i, e in enumerate(ids[: elements // 4]):
            for plan in PLANS:
                expected.append(
                    {
                        "event_date": day,
                        "network_element_id": e,
                        "region": region[e],
                        "plan_code": plan,
                        "service_type": "data",
                        "expected_revenue": float(level[i]),
                    }
                )
                if plan == "BIZ-PRO" and d >= 20:  # the injected mis-rating
                    exceptions.append(
                        {
                            "control": "rating_accuracy",
                            "reason": "wrong_price",
                            "event_date": day,
                            "network_element_id": e,
                            "region": region[e],
                            "plan_code": plan,
                            "service_type": "data",
                            "amount": 0.1 * float(level[i]),
                            "msisdn": None,
                        }
                    )
    loads = [
        {
            "batch_id": f"b-{e}-{d}",
            "source": "cdr",
            "entity": "records",
            "partition_date": (START + timedelta(days=d)).date(),
            "landed_at": START + timedelta(days=d + 1, hours=1 + (30 if (i, d) == (3, 5) else 0)),
            "rows_in": 1000,
            "method": "copy",
            "elements": [e],
        }
        for i, e in enumerate(ids)
        for d in range(days)
    ]
    records = _element_days(ids, hourly, alarms, days)
    obs = Observations(
        exceptions=exceptions,
        expected=expected,
        hourly=hourly,
        alarms=alarms,
        elements=inventory,
        loads=loads,
    )
    return obs, records


def _element_days(ids, hourly, alarms, days) -> list[ElementDay]:
    volume: dict[tuple[str, int], int] = {}
    for row in hourly:
        key = (row["network_element_id"], (row["hour"] - START).days)
        volume[key] = volume.get(key, 0) + row["cdrs"]
    counts: dict[tuple[str, int], dict[str, int]] = {}
    for a in alarms:
        key = (a["network_element_id"], (a["raised_at"] - START).days)
        by = counts.setdefault(key, {})
        by[a["severity"]] = by.get(a["severity"], 0) + 1
    return [
        ElementDay(
            element_id=e,
            day=(START + timedelta(days=d)).date(),
            element_type="msc",
            kpis={"cdr_count": float(volume[(e, d)])},
            alarms=counts.get((e, d), {}),
        )
        for e in ids
        for d in range(days)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--elements", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    t0 = time.perf_counter()
    obs, records = synthetic(args.elements, args.days, args.seed)
    print(
        f"synthetic: {len(obs.hourly):,} element-hours, {len(obs.alarms):,} alarms, "
        f"{len(obs.exceptions):,} exceptions, {len(obs.loads):,} batches "
        f"({time.perf_counter() - t0:.1f}s)"
    )
    t0 = time.perf_counter()
    findings = analyze(obs)
    analysis = time.perf_counter() - t0
    found = {(f.causes[0].kind, f.causes[0].value) for f in findings}
    kinds: dict[str, int] = {}
    for f in findings:
        kinds[f.causes[0].kind] = kinds.get(f.causes[0].kind, 0) + 1
    wanted = {("cdr_drop", "NE-0017"), ("wrong_tariff", "BIZ-PRO"), ("late_batch", "NE-0003")}
    print(
        f"analysis: {analysis:.1f}s, {len(findings)} findings; injected found: "
        f"{len(wanted & found)}/{len(wanted)}"
    )
    t0 = time.perf_counter()
    report = evaluate(records, test_days=7)
    print(
        f"forecast: {time.perf_counter() - t0:.1f}s, ROC AUC model "
        f"{report.model.roc_auc:.3f} vs baseline {report.baseline.roc_auc:.3f}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
