"""Run the project's dbt against a given warehouse, outside Dagster (tests, benchmarks, scripts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sdp.runtime.services import warehouse_parts

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"


def run_dbt(url: str, *args: str) -> subprocess.CompletedProcess:
    """`dbt <args>` from dbt/, its profile pointed at `url`; output captured, never raises."""
    env = {**os.environ, **warehouse_parts(url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args, "--profiles-dir", "."],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
