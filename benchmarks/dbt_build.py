"""The dbt build of the whole project on about a million CDRs.

Prints the wall time of `dbt build`, and for the CDR fact and each control the model's own
execution time with the rows per second it sustains (CDRs in per second of model time), from
dbt's run_results.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import psycopg

from sdp.contracts import load_contract
from sdp.db import connect, scratch_database
from sdp.dbt_cli import run_dbt
from sdp.generator import generate
from sdp.ingest.partition import load_partition
from sdp.runtime.services import warehouse_url
from sdp.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
REPORTED = (
    "cdrs",
    "billed_usage",
    "ctl_usage_completeness",
    "ctl_rating_accuracy",
    "ctl_subscription_reconciliation",
    "ctl_invoice_gl_tieout",
    "ctl_exceptions",
    "ctl_leakage_daily",
)


def land_and_load(url: str, landing: Path, customers: int) -> int:
    t0 = time.perf_counter()
    generate(ROOT / "scenarios" / "default.yaml", landing, customers=customers)
    print(f"generated {customers:,} customers x 7 days in {time.perf_counter() - t0:.0f}s")
    t0 = time.perf_counter()
    contract = load_contract()
    days = sorted({p.name[3:] for p in landing.glob("*/*/dt=*")})
    with connect(url) as conn:
        for entity in contract.entities:
            for day in days:
                load_partition(conn, landing, entity, day)
        cdrs = conn.execute("select count(*) from raw.cdr_records").fetchone()[0]
    print(f"loaded {cdrs:,} CDRs (and the other feeds) in {time.perf_counter() - t0:.0f}s")
    return cdrs


def dbt_build(url: str, target: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    # Zingg is benchmarked on its own (zingg_match.py): here its output tables stay empty, so
    # every CRM customer is its own golden customer
    run = run_dbt(url, "build", "--quiet", target=target)
    if run.returncode:
        raise SystemExit(f"dbt build failed:\n{run.stdout[-3000:]}")
    wall = time.perf_counter() - t0
    results = json.loads((target / "run_results.json").read_text())
    timing = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results["results"]}
    return wall, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=7000, help="7,000 gives about 1M CDRs")
    args = parser.parse_args()
    admin_url = warehouse_url(load_settings())
    with scratch_database(admin_url, "bench") as url, tempfile.TemporaryDirectory() as tmp:
        cdrs = land_and_load(url, Path(tmp) / "landing", args.customers)
        wall, timing = dbt_build(url, Path(tmp) / "target")
        with psycopg.connect(url) as conn:
            rows = {
                model: conn.execute(
                    f"select count(*) from {'marts' if model in REPORTED[:2] else 'controls'}"
                    f".{model}"
                ).fetchone()[0]
                for model in REPORTED
            }
    print(f"dbt build (all models and tests): {wall:.1f}s for {cdrs:,} CDRs")
    print(f"{'model':<34}{'rows out':>12}{'seconds':>10}{'CDRs/s':>14}")
    for model in REPORTED:
        seconds = timing.get(model, 0.0)
        rate = cdrs / seconds if seconds else float("nan")
        print(f"{model:<34}{rows[model]:>12,}{seconds:>10.2f}{rate:>14,.0f}")


if __name__ == "__main__":
    main()
