"""Zingg match at 10k and 100k customers against a blocking + rapidfuzz baseline, same run.

For each size, match (CRM dedupe) and link (CRM <-> billing): Zingg's training (shipped samples,
that size's data for blocking) and its run phase, each with wall time and its JVM's peak memory,
with pairwise F1 against the ground truth; and a blocking + rapidfuzz dedupe baseline's wall
time, peak memory (the benchmark process) and F1. Goal: Zingg's match ≤ 5 minutes for 100k
customers on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import psycopg
from rapidfuzz import fuzz

from sdp.contracts import load_contract
from sdp.db import connect, scratch_database
from sdp.dbt_cli import run_dbt
from sdp.generator import generate
from sdp.ingest.partition import load_partition
from sdp.runtime.services import warehouse_url
from sdp.scoring.matching import pair_metrics, score_matching
from sdp.settings import load_settings
from sdp.zingg.pipeline import Reconciler
from sdp.zingg.records import MATCH_FIELDS, crm_records

ROOT = Path(__file__).resolve().parent.parent


def build(url: str, landing: Path, customers: int) -> dict:
    generate(ROOT / "scenarios" / "default.yaml", landing, customers=customers, days=1)
    contract = load_contract()
    with connect(url) as conn:
        for entity in (contract.entity("crm", "customers"), contract.entity("billing", "accounts")):
            for day in sorted({p.name[3:] for p in landing.glob("crm/customers/dt=*")}):
                load_partition(conn, landing, entity, day)
    run = run_dbt(url, "run", "--quiet", "--select", "stg_crm__customers", "stg_billing__accounts")
    if run.returncode:
        raise SystemExit(f"dbt run failed:\n{run.stdout[-3000:]}")
    return json.loads((landing / "ground_truth.json").read_text())


def baseline(conn: psycopg.Connection) -> tuple[set[tuple[str, str]], float]:
    """Block on postcode and on date of birth, then a weighted rapidfuzz score over the fields."""
    started = time.perf_counter()
    records = list(crm_records(conn, MATCH_FIELDS))
    blocks: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in records:
        blocks["p:" + r["postcode"]].append(r)
        blocks["d:" + r["dob"] + r["last_name"][:1]].append(r)
    pairs = set()
    for members in blocks.values():
        for a, b in combinations(members, 2):
            score = (
                fuzz.ratio(a["first_name"], b["first_name"]) * 0.2
                + fuzz.ratio(a["last_name"], b["last_name"]) * 0.25
                + (100 if a["dob"] == b["dob"] and a["dob"] else 0) * 0.2
                + fuzz.ratio(a["address"], b["address"]) * 0.15
                + (100 if a["phone"] == b["phone"] and a["phone"] else 0) * 0.1
                + fuzz.ratio(a["email"], b["email"]) * 0.1
            )
            if score >= 85:
                pairs.add(tuple(sorted((a["record_id"], b["record_id"]))))
    return pairs, time.perf_counter() - started  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    admin_url = warehouse_url(load_settings())
    print(f"{'customers':>10} {'engine':<13} {'seconds':>9} {'peak MiB':>9} {'F1':>7}")
    for size in args.sizes:
        with scratch_database(admin_url, "bench") as url, tempfile.TemporaryDirectory() as tmp:
            truth = build(url, Path(tmp) / "landing", size)
            true_pairs = {tuple(sorted(p)) for p in truth["duplicates"]["crm_crm"]}
            with connect(url) as conn:
                reconciler = Reconciler(conn, load_settings())
                runs = {}
                for model in ("match", "link"):
                    (train,) = reconciler.train(model, force=True).phases
                    result = reconciler.match() if model == "match" else reconciler.link()
                    runs[model] = (train, *result.phases)
                figures = score_matching(conn, truth)
                for model, phases in runs.items():
                    for phase in phases:
                        f1 = f" {figures[model]['f1']:>7.4f}" if phase.phase == model else ""
                        print(
                            f"{size:>10,} {'zingg ' + phase.phase:<13} {phase.seconds:>9.1f}"
                            f" {phase.peak_rss_mib:>9.0f}{f1}"
                        )
                own_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                pairs, base_seconds = baseline(conn)
                own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                base_f1 = pair_metrics(pairs, true_pairs)["f1"]
                print(
                    f"{size:>10,} {'rapidfuzz':<13} {base_seconds:>9.1f}"
                    f" {max(own_before, own_peak) / 1024:>9.0f} {base_f1:>7.4f}"
                )


if __name__ == "__main__":
    main()
