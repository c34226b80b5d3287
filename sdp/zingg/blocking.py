"""What Zingg's blocking compared: the learnt tree's splits and the blocks of a run's records.

A pair Zingg never compares can never be matched, whatever its classifier would say, so the
blocking decides the recall before the model does. Zingg reports neither its tree nor the pairs
it compared; `blocking_job` (a Spark job on Zingg's own classes) writes both out and this module
turns them into figures: which fields and hash functions the tree splits on, how many pairs the
blocks hold, and, given true pairs, how many of them share a block (the blocking recall).
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sdp.zingg.runner import PhaseRun, ZinggError, ZinggRunner

JOB = Path(__file__).with_name("blocking_job.py")
TREE_FILE = "blocking_tree.json"


def block_file(model_dir: Path) -> Path:
    """Where Zingg keeps the learnt tree inside a trained model's directory."""
    return model_dir / "model" / "block" / "zingg.block"


@dataclass(frozen=True)
class Split:
    field: str
    function: str
    nodes: int  # how many nodes of the tree split on this (field, function)
    shallowest: int  # the smallest depth at which it splits (0: the root)


@dataclass(frozen=True)
class BlockingTree:
    splits: tuple[Split, ...]
    depth: int
    leaves: int

    @classmethod
    def from_nodes(cls, nodes: list[dict]) -> BlockingTree:
        seen: dict[tuple[str, str], list[int]] = defaultdict(list)
        for node in nodes:
            if node.get("field") and node.get("function"):
                seen[(node["field"], node["function"])].append(int(node["depth"]))
        splits = sorted(
            (Split(f, fn, len(d), min(d)) for (f, fn), d in seen.items()),
            key=lambda s: (s.shallowest, -s.nodes, s.field, s.function),
        )
        return cls(
            tuple(splits),
            depth=max((int(n["depth"]) for n in nodes), default=0),
            leaves=sum(1 for n in nodes if not n.get("children")),
        )

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(sorted({s.field for s in self.splits}))

    def markdown(self) -> str:
        rows = "\n".join(
            f"| {s.field} | {s.function} | {s.nodes} | {s.shallowest} |" for s in self.splits
        )
        return (
            f"{self.leaves} blocks' paths, depth {self.depth}\n\n"
            "| field | hash function | splits | shallowest depth |\n|---|---|---:|---:|\n" + rows
        )


@dataclass(frozen=True)
class Blocks:
    """The blocks of every record a run matched, keyed by (source, record id): one block per
    record from Zingg's tree, one per blocking pass when the model has passes.

    `sources` names the sides Zingg pairs: the same source twice for a dedupe (every two
    records of a block are compared), two sources for a link (only pairs across them)."""

    hashes: dict[tuple[str, str], frozenset[str]]
    sources: tuple[str, str]

    def _sizes(self) -> dict[str, Counter]:
        sizes: dict[str, Counter] = defaultdict(Counter)
        for (source, _), blocks in self.hashes.items():
            for block in blocks:
                sizes[block][source] += 1
        return sizes

    @property
    def count(self) -> int:
        return len(self._sizes())

    @property
    def largest(self) -> int:
        return max((sum(c.values()) for c in self._sizes().values()), default=0)

    @property
    def pairs_compared(self) -> int:
        left, right = self.sources
        sizes = self._sizes().values()
        if left == right:
            return sum((n := c[left]) * (n - 1) // 2 for c in sizes)
        return sum(c[left] * c[right] for c in sizes)

    def compared(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of `pairs` (left id, right id) whose two records share a block."""
        left, right = self.sources
        none: frozenset[str] = frozenset()
        return {
            (a, b)
            for a, b in pairs
            if self.hashes.get((left, a), none) & self.hashes.get((right, b), none)
        }

    def figures(self) -> dict[str, int]:
        return {
            "pairs_compared": self.pairs_compared,
            "blocks": self.count,
            "largest_block": self.largest,
        }


def read_tree(path: Path) -> BlockingTree:
    try:
        return BlockingTree.from_nodes(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ZinggError(f"{path}: not a blocking tree Zingg's job wrote ({exc})") from exc


def read_blocks(
    path: Path, sources: tuple[str, str], original: Callable[[str], str] = str
) -> Blocks:
    """`original` turns the id Zingg saw (a pass's copy) into the record's id."""
    hashes: dict[tuple[str, str], set[str]] = defaultdict(set)
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            hashes[(r["z_source"], original(r["record_id"]))].add(r["z_hash"])
    return Blocks({k: frozenset(v) for k, v in hashes.items()}, sources)


def inspect_tree(runner: ZinggRunner, model_dir: Path) -> tuple[BlockingTree, PhaseRun]:
    """Read the trained model's tree; kept beside the model as `blocking_tree.json`."""
    out = model_dir / TREE_FILE
    run = runner.run_script(
        JOB,
        ["--block-file", str(block_file(model_dir)), "--tree-out", str(out)],
        f"{model_dir.name}-blocking-tree",
    )
    return read_tree(out), run


def inspect_blocks(
    runner: ZinggRunner,
    model_dir: Path,
    inputs: dict[str, Path],
    fields: tuple[str, ...],
    original: Callable[[str], str] = str,
) -> tuple[Blocks, PhaseRun]:
    """The blocks of every record in `inputs` (source name -> the CSV Zingg matched; one
    source for a dedupe, two for a link, in the order of a pair)."""
    out = runner.work / "output" / f"{model_dir.name}-blocks.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    run = runner.run_script(
        JOB,
        [
            "--block-file",
            str(block_file(model_dir)),
            "--tree-out",
            str(model_dir / TREE_FILE),
            *(arg for name, path in inputs.items() for arg in ("--input", f"{name}={path}")),
            "--fields",
            ",".join(fields),
            "--hashes-out",
            str(out),
        ],
        f"{model_dir.name}-blocks",
    )
    names = list(inputs)
    return read_blocks(out, (names[0], names[-1]), original), run
