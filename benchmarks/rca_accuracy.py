"""RCA accuracy on every scenario: is each injected incident some finding's top-ranked cause?

Goal: the top-ranked cause names the incident's kind, place and window for at least 90 % of
the incidents of `scenarios/default.yaml` and the `scenarios/rca-*.yaml` scenarios together.
Each scenario is generated and built whole (raw → Zingg → dbt → quality → RCA) in a database
of its own; the analysis time is the `rca/findings` step's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from orchestration.inprocess import build_landed_days
from sdp.db import connect, scratch_database
from sdp.generator import generate
from sdp.runtime.services import warehouse_url
from sdp.scoring.rca import score_rca
from sdp.settings import load_settings

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def run(scenario: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        result = generate(scenario, landing)
        truth = json.loads(result.ground_truth.read_text())
        days = sorted(p.name[3:] for p in landing.glob("cdr/records/dt=*"))
        with scratch_database(warehouse_url(load_settings()), "bench") as url:
            started = time.perf_counter()
            outcome = build_landed_days(url, landing, days)
            if not outcome.success:
                raise SystemExit(f"{scenario.name}: the build failed")
            with connect(url) as conn:
                score = score_rca(conn, truth)
    step = next(
        e.event_specific_data.duration_ms / 1000
        for e in outcome.all_events
        if e.is_step_success and e.step_key == "rca__findings"
    )
    return {**score, "build_s": time.perf_counter() - started, "rca_s": step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", type=Path)
    args = parser.parse_args()
    # the build changes directory on the way (Spark, dbt): read scenarios from absolute paths
    scenarios = [p.resolve() for p in args.scenarios] or [
        SCENARIOS / "default.yaml",
        *sorted(SCENARIOS.glob("rca-*.yaml")),
    ]
    total = correct = 0
    print(f"{'scenario':<22}{'incidents':>10}{'top-1':>8}{'build s':>9}{'rca s':>7}  missed")
    for scenario in scenarios:
        r = run(scenario)
        total += r["incidents"]
        correct += r["top1_correct"]
        print(
            f"{scenario.stem:<22}{r['incidents']:>10}{r['top1_correct']:>8}"
            f"{r['build_s']:>9.0f}{r['rca_s']:>7.1f}  {', '.join(r['missed']) or '-'}"
        )
    print(f"top-1 accuracy: {correct}/{total} = {correct / total:.1%}  (goal >= 90%)")


if __name__ == "__main__":
    main()
