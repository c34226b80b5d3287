"""Labelled training pairs, so that Zingg trains without anybody at a keyboard.

The shipped samples (`zingg_configs/training/<model>.csv`) were made from a scenario the tests
never score (`scenarios/training.yaml`, its own seed): true pairs from its ground truth, and
for each a hard negative (same surname or same town, another person) plus random ones. Reviewed
pairs (`reconciliation.match_reviews`) are written in the same shape and added at the next
training. Zingg reads two rows per pair sharing a `z_cluster`, with `z_isMatch` 1 or 0.

Namesakes (`namesakes`) are added at each training too, derived from the shipped true pairs:
two people who bear the same name and share nothing else are not one customer. Without them
the dedupe took namesakes for duplicates once its blocking passes began to compare them (10k
French customers: six false pairs, scored 0.51 to 0.60, against twenty true ones at 1.0).
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


def namesakes(
    samples: Path, fields: tuple[str, ...], names: tuple[str, ...], path: Path, seed: int = 7
) -> Path | None:
    """For each true pair of `samples`, a false one: its first record beside another person of
    the samples given the same `names` (written to `path`; None without names or two pairs)."""
    if not names:
        path.unlink(missing_ok=True)
        return None
    with open(samples, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    people: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["z_isMatch"] == "1":
            people.setdefault(row["z_cluster"], row)
    firsts = [people[c] for c in sorted(people)]
    if len(firsts) < 2:
        path.unlink(missing_ok=True)
        return None
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    for n, person in enumerate(firsts):
        other = firsts[(n + 1 + rng.randrange(len(firsts) - 1)) % len(firsts)]  # never itself
        namesake = {**other, **{f: person[f] for f in names}}
        out += pair_rows(f"namesake{n}", False, person, namesake, fields)
    write_samples(path, out, fields)
    return path


def write_samples(path: Path, rows: list[dict[str, str]], fields: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["z_cluster", "z_isMatch", *fields])
        writer.writeheader()
        writer.writerows(rows)
