"""Zingg match and link at 10k and 100k customers of both operator profiles, beside ECM.

For each operator (the shipped British profile, the French one) and size, match (CRM dedupe)
and link (CRM <-> billing): Zingg's training (shipped samples, that size's data for blocking),
its run phase and the blocking inspections, each with wall time and its JVM's peak memory;
pairwise precision, recall and F1 against the ground truth and the blocking recall (true pairs
sharing a block / true pairs). Beside it, in the same run on the same CRM records,
recordlinkage's ECM dedupe (`ecm.py`): wall time, peak memory (the benchmark process), P/R/F1.
Goals: F1 ≥ 0.99, blocking recall ≥ 0.995, Zingg's match ≤ 5 minutes for 100k customers on
2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ecm import ecm_pairs

from sdp.contracts import load_contract
from sdp.db import connect, scratch_database
from sdp.dbt_cli import run_dbt
from sdp.generator import generate
from sdp.ingest.partition import load_partition
from sdp.numbering import refresh
from sdp.operator import FILE_VARIABLE, load_profile
from sdp.runtime.services import warehouse_url
from sdp.scoring.matching import blocking_recall, pair_metrics, score_matching, truth_pairs
from sdp.settings import load_settings
from sdp.zingg.pipeline import Reconciler
from sdp.zingg.records import MATCH_FIELDS, crm_records

ROOT = Path(__file__).resolve().parent.parent
# operator -> (its profile, None for the shipped one; its scenario)
OPERATORS = {
    "gb": (None, "default.yaml"),
    "fr": ("scenarios/operators/fr-mobile.yaml", "fr-default.yaml"),
}


def build(url: str, landing: Path, scenario: str, customers: int) -> dict:
    generate(ROOT / "scenarios" / scenario, landing, customers=customers, days=1)
    contract = load_contract()
    with connect(url) as conn:
        for entity in (contract.entity("crm", "customers"), contract.entity("billing", "accounts")):
            for day in sorted({p.name[3:] for p in landing.glob("crm/customers/dt=*")}):
                load_partition(conn, landing, entity, day)
        # as the pipeline does before staging: the raw phone values read as E.164 numbers
        refresh(conn, load_profile().country)
    run = run_dbt(url, "run", "--quiet", "--select", "stg_crm__customers", "stg_billing__accounts")
    if run.returncode:
        raise SystemExit(f"dbt run failed:\n{run.stdout[-3000:]}")
    return json.loads((landing / "ground_truth.json").read_text())


@contextmanager
def operator(name: str) -> Iterator[str]:
    """The operator's profile in force for the build (generator, loader, dbt), then put back."""
    profile, scenario = OPERATORS[name]
    saved = dict(os.environ)
    if profile:
        os.environ[FILE_VARIABLE] = str(ROOT / profile)
    try:
        yield scenario
    finally:
        os.environ.clear()
        os.environ.update(saved)


def measure(name: str, size: int, admin_url: str) -> list[tuple]:
    """(engine, seconds, peak MiB, P/R/F1 or None, blocking recall or None) per row."""
    with (
        operator(name) as scenario,
        scratch_database(admin_url, "bench") as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        truth = build(url, Path(tmp) / "landing", scenario, size)
        pairs = truth_pairs(truth)
        rows = []
        with connect(url) as conn:
            reconciler = Reconciler(conn, load_settings())
            for model in ("match", "link"):
                trained = reconciler.train(model, force=True)
                result = reconciler.match() if model == "match" else reconciler.link()
                figures = score_matching(conn, truth)[model]
                recall = blocking_recall(result.blocks, pairs[model])["blocking_recall"]
                for phase in (*trained.phases, *result.phases):
                    scored = phase.phase == model
                    rows.append(
                        (
                            f"zingg {model} {phase.phase}"[:26],
                            phase.seconds,
                            phase.peak_rss_mib,
                            figures if scored else None,
                            recall if scored else None,
                        )
                    )
            own_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            baseline = ecm_pairs(list(crm_records(conn, MATCH_FIELDS)))
            seconds = time.perf_counter() - started
        own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ecm = pair_metrics(baseline, pairs["match"])
        rows.append(("ecm match", seconds, max(own_before, own_peak) / 1024, ecm, None))
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--operators", nargs="+", choices=sorted(OPERATORS), default=["gb", "fr"])
    args = parser.parse_args()
    admin_url = warehouse_url(load_settings())
    print(
        f"{'operator':<8} {'customers':>10} {'engine':<26} {'seconds':>9} {'peak MiB':>9}"
        f" {'P':>6} {'R':>6} {'F1':>6} {'blocking R':>10}"
    )
    for name in args.operators:
        for size in args.sizes:
            for engine, secs, mib, m, recall in measure(name, size, admin_url):
                scores = f" {m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f}" if m else ""
                blocked = f" {recall:>10.4f}" if recall is not None else ""
                head = f"{name:<8} {size:>10,} {engine:<26} {secs:>9.1f} {mib:>9.0f}"
                print(head + scores + blocked, flush=True)


if __name__ == "__main__":
    main()
