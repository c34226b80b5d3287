"""Run the project's dbt against a given warehouse, outside Dagster (tests, benchmarks, scripts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sdp.operator import load_profile
from sdp.runtime.services import warehouse_parts

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"


def dbt_environment(url: str) -> dict[str, str]:
    """What dbt's process needs beyond the parent's environment: the profile's connection
    variables for `url`, and PGTZ so that its sessions keep the operator's time as ours do
    (`sdp.db.session_options`)."""
    return {**warehouse_parts(url), "PGTZ": load_profile().timezone}


def dbt_vars(**extra: str) -> str:
    """The `--vars` of every dbt invocation: the operator profile's, plus `extra`."""
    return json.dumps({**load_profile().dbt_vars(), **extra})


def run_dbt(url: str, *args: str, target: Path | None = None) -> subprocess.CompletedProcess:
    """`dbt <args>` from dbt/, its profile pointed at `url`; output captured, never raises.

    Artifacts go to `target` (a throwaway directory when None), never to dbt/target: the
    manifest there is the code location's, and a run against another database would leave that
    database's name compiled into it."""
    env = {**os.environ, **dbt_environment(url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    with tempfile.TemporaryDirectory(prefix="dbt-target-") as scratch:
        return subprocess.run(
            [
                str(Path(sys.executable).with_name("dbt")),
                *args,
                "--vars",
                dbt_vars(),
                "--profiles-dir",
                ".",
                "--target-path",
                str(target or scratch),
            ],
            cwd=DBT_DIR,
            env=env,
            capture_output=True,
            text=True,
        )


def run_results_summary(run_results: dict) -> dict:
    """What a `dbt build` did, in numbers: counts per resource type and status, the failures."""
    counts: dict[str, dict[str, int]] = {}
    failures = []
    for result in run_results.get("results", []):
        kind = result.get("unique_id", "").split(".", 1)[0]
        status = str(result.get("status"))
        counts.setdefault(kind, {}).setdefault(status, 0)
        counts[kind][status] += 1
        if status in ("error", "fail"):
            node = result.get("unique_id")
            failures.append({"node": node, "status": status, "message": result.get("message")})
    return {
        "invocation_id": run_results.get("metadata", {}).get("invocation_id"),
        "elapsed_s": round(float(run_results.get("elapsed_time") or 0.0), 3),
        "counts": counts,
        "failures": failures,
    }
