"""Run the project's dbt against a given warehouse, outside Dagster (tests, benchmarks, scripts)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sdp.operator import load_profile
from sdp.runtime.services import warehouse_parts
from sdp.settings import load_settings

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt"
PARTIAL_PARSE = "partial_parse.msgpack"


def dbt_environment(url: str) -> dict[str, str]:
    """What dbt's process needs beyond the parent's environment: the profile's connection
    variables for `url`, and PGTZ so that its sessions keep the operator's time as ours do
    (`sdp.db.session_options`)."""
    return {**warehouse_parts(url), "PGTZ": load_profile().timezone}


def dbt_vars(**extra: str) -> str:
    """The `--vars` of every dbt invocation: the operator profile's, plus `extra`."""
    return json.dumps({**load_profile().dbt_vars(), **extra})


def parse_cache(url: str, variables: str) -> Path:
    """Where the partial parse of the last dbt invocation against `url` with `variables` is kept.

    dbt parses the whole project again (about 5 s) whenever the connection or the vars differ
    from those of the parse it finds in its target directory, and every invocation gets a
    target directory of its own: kept per (connection, vars), a parse serves every later
    invocation against the same warehouse, which then parses only the files that changed."""
    connection = {k: v for k, v in dbt_environment(url).items() if "PASSWORD" not in k}
    key = json.dumps([connection, json.loads(variables)], sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return load_settings().home / "dbt-parse" / f"{digest}.msgpack"


@contextmanager
def reused_parse(cache: Path, target: Path) -> Iterator[Path]:
    """`target` seeded with the parse kept in `cache`; afterwards the parse dbt wrote there is
    kept in its place (replaced whole, so concurrent invocations never read half a file)."""
    target.mkdir(parents=True, exist_ok=True)
    if cache.exists():
        shutil.copyfile(cache, target / PARTIAL_PARSE)
    try:
        yield target
    finally:
        written = target / PARTIAL_PARSE
        if written.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_name(f"{cache.name}.{os.getpid()}")
            shutil.copyfile(written, partial)
            os.replace(partial, cache)


def run_dbt(url: str, *args: str, target: Path | None = None) -> subprocess.CompletedProcess:
    """`dbt <args>` from dbt/, its profile pointed at `url`; output captured, never raises.

    Artifacts go to `target` (a throwaway directory when None), never to dbt/target: the
    manifest there is the code location's, and a run against another database would leave that
    database's name compiled into it."""
    env = {**os.environ, **dbt_environment(url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    variables = dbt_vars()
    with (
        tempfile.TemporaryDirectory(prefix="dbt-target-") as scratch,
        reused_parse(parse_cache(url, variables), target or Path(scratch)) as target_path,
    ):
        return subprocess.run(
            [
                str(Path(sys.executable).with_name("dbt")),
                *args,
                "--vars",
                variables,
                "--profiles-dir",
                ".",
                "--target-path",
                str(target_path),
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
