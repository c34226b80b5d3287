"""The whole-graph run's steps: fewer than assets, the same in every process, and in an order
that lets every scan see what it scans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dagster import AssetCheckKey, AssetKey
from dagster._core.definitions.dependency import NodeHandle
from dagster._core.execution.api import create_execution_plan

from orchestration.definitions import defs

RANGE = {
    "dagster/asset_partition_range_start": "2026-10-27",
    "dagster/asset_partition_range_end": "2026-11-02",
}


def whole_graph_plan() -> tuple[dict[str, set[str]], dict[str, set]]:
    """(step -> the steps it waits for, transitively; step -> the assets and checks it runs)."""
    job = defs.resolve_implicit_global_asset_job_def()
    steps = create_execution_plan(job, tags=RANGE).get_all_steps_in_topo_order()
    direct = {
        s.key: {o.step_key for i in s.step_inputs for o in i.get_step_output_handle_dependencies()}
        for s in steps
    }
    ancestors: dict[str, set[str]] = {}
    for s in steps:  # topological order: the parents are done
        ancestors[s.key] = set().union(*({p, *ancestors[p]} for p in direct[s.key]))
    runs = {
        s.key: set(job.asset_layer.get_selected_entity_keys_for_node(NodeHandle(s.key, None)))
        for s in steps
    }
    return ancestors, runs


def test_every_soda_scan_step_waits_for_the_steps_that_build_its_datasets():
    ancestors, runs = whole_graph_plan()
    builder = {k: step for step, keys in runs.items() for k in keys if isinstance(k, AssetKey)}
    scans = {s: keys for s, keys in runs.items() if s.startswith("soda_")}
    assert scans
    for step, keys in scans.items():
        datasets = {k.asset_key for k in keys if isinstance(k, AssetCheckKey)}
        early = sorted(d.to_user_string() for d in datasets if builder[d] not in ancestors[step])
        assert early == [], f"{step} may scan {early} before they are built"


def test_every_process_plans_the_same_steps_whatever_its_string_hashing():
    """The run worker plans, each step's process plans again and runs its step by name: a name
    that means other work in another process runs the wrong work (Dagster names the parts of
    a step it splits after set order)."""
    script = (
        f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r});"
        " import test_step_plan as t;"
        " _, runs = t.whole_graph_plan();"
        " print(json.dumps({s: sorted(map(str, k)) for s, k in runs.items()}, sort_keys=True))"
    )
    plans = []
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        plans.append(json.loads(done.stdout.splitlines()[-1]))
    assert plans[0] == plans[1]


def test_a_whole_graph_run_has_fewer_steps_than_assets_and_checks():
    _, runs = whole_graph_plan()
    assets = {k for keys in runs.values() for k in keys if isinstance(k, AssetKey)}
    checks = {k for keys in runs.values() for k in keys if isinstance(k, AssetCheckKey)}
    assert len(assets) > 45 and len(checks) > 150
    assert len(runs) <= 45, sorted(runs)
    # every landed feed loads in one step and is scanned in one; the CDR stream has its own
    assert sorted(s for s in runs if s.startswith(("raw", "soda_raw"))) == [
        "raw__cdr_events",
        "raw_feeds",
        "soda_raw",
    ]
