"""The RCA scenarios: each a few incidents of its own kinds on the clean operator."""

from __future__ import annotations

from pathlib import Path

import yaml

from sdp.generator.scenario import load_scenario
from sdp.scoring.controls import RA_KINDS

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_five_rca_scenarios_of_one_to_three_incidents_cover_the_leak_and_fault_kinds():
    scenarios = sorted(SCENARIOS.glob("rca-*.yaml"))
    assert len(scenarios) >= 5
    clean = yaml.safe_load((SCENARIOS / "clean.yaml").read_text())
    kinds = set()
    for path in scenarios:
        scenario = load_scenario(path)
        assert 1 <= len(scenario.defects) <= 3, path.name
        kinds |= {d.kind for d in scenario.defects}
        document = yaml.safe_load(path.read_text())
        for key in ("seed", "start", "days", "customers", "traffic"):
            assert document[key] == clean[key], f"{path.name}: {key} differs from clean.yaml"
    assert kinds >= {*RA_KINDS, "cdr_drop", "late_batch", "schema_drift"}
