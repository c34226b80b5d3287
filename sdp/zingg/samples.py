"""Labelled training pairs, so that Zingg trains without anybody at a keyboard.

The shipped samples (`zingg_configs/training/<model>.csv`) were made from a scenario the tests
never score (`scenarios/training.yaml`, its own seed): true pairs from its ground truth, and
for each a hard negative (same surname or same town, another person) plus random ones. Reviewed
pairs (`reconciliation.match_reviews`) are written in the same shape and added at the next
training. Zingg reads two rows per pair sharing a `z_cluster`, with `z_isMatch` 1 or 0.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path


def pair_rows(
    cluster: str, is_match: bool, a: dict[str, str], b: dict[str, str], fields: tuple[str, ...]
) -> list[dict[str, str]]:
    head = {"z_cluster": cluster, "z_isMatch": "1" if is_match else "0"}
    return [{**head, **{f: r.get(f, "") for f in fields}} for r in (a, b)]


def build_samples(
    left: dict[str, dict[str, str]],
    right: dict[str, dict[str, str]],
    true_pairs: Iterable[tuple[str, str]],
    fields: tuple[str, ...],
    positives: int,
    seed: int = 7,
) -> list[dict[str, str]]:
    """Pairs (left id, right id); for self-matching pass the same records as left and right."""
    rng = random.Random(seed)
    pairs = sorted({(a, b) for a, b in true_pairs if a in left and b in right})
    rng.shuffle(pairs)
    pairs = pairs[:positives]
    matched = {(a, b) for a, b in pairs} | {(b, a) for a, b in pairs}
    by_surname: dict[str, list[str]] = defaultdict(list)
    for rid, record in right.items():
        by_surname[record.get("last_name", "")].append(rid)
    right_ids = sorted(right)
    rows: list[dict[str, str]] = []
    for n, (a, b) in enumerate(pairs):
        rows += pair_rows(f"p{n}", True, left[a], right[b], fields)
        same_name = [r for r in by_surname.get(left[a].get("last_name", ""), []) if r not in (a, b)]
        hard = rng.choice(same_name) if same_name else rng.choice(right_ids)
        for m, other in enumerate((hard, rng.choice(right_ids))):
            if other in (a, b) or (a, other) in matched:
                continue
            rows += pair_rows(f"n{n}-{m}", False, left[a], right[other], fields)
    return rows


def write_samples(path: Path, rows: list[dict[str, str]], fields: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["z_cluster", "z_isMatch", *fields])
        writer.writeheader()
        writer.writerows(rows)
