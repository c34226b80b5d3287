"""Reconcile customers: export from staging, train and run Zingg, write results to the warehouse.

Results land in schema `reconciliation`: `customer_matches` (one row per CRM record with its
Zingg cluster and scores) and `customer_links` (one row per CRM record ↔ billing account pair
Zingg put in one cluster, with its score). Both models block in several passes
(`sdp.zingg.passes`): Zingg sees a copy of each record per pass, and the results are read back
per record, the clusters of its copies joined. Each table is replaced whole in one
transaction, so a re-run leaves the same shape and never a half-written result.

Zingg clusters every pair its classifier leans towards, some only just. The model's acceptance
floor (`platform.minScore` in `zingg_configs/<model>.json`, 0.5 by default) keeps a record out of
its cluster when even its best score is lower, and marks links scored lower as not accepted
(golden customers ignore them). Scores within the review margin of the floor
(`platform.reviewMargin`, 0.15) are marked doubtful on either side of it: dbt lists those pairs
in `reconciliation.review_queue` for a reviewer, whose decision overrides Zingg and joins the
next training.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from psycopg import Connection

from sdp.db import replace_rows
from sdp.settings import Settings
from sdp.zingg.blocking import (
    TREE_FILE,
    BlockingTree,
    Blocks,
    inspect_blocks,
    inspect_tree,
    read_tree,
)
from sdp.zingg.configs import ZinggModel, effective_config, load_model
from sdp.zingg.passes import Components, replicate
from sdp.zingg.records import (
    LINK_FIELDS,
    MATCH_FIELDS,
    billing_records,
    crm_records,
    write_csv,
)
from sdp.zingg.reviews import review_samples
from sdp.zingg.runner import PhaseRun, ZinggError, ZinggRunner
from sdp.zingg.samples import namesakes

SCHEMA = "reconciliation"


@dataclass(frozen=True)
class ZinggResult:
    model: str
    fingerprint: str
    records: int
    output_rows: int
    phases: tuple[PhaseRun, ...]
    blocks: Blocks  # the block of every record this run compared


@dataclass(frozen=True)
class TrainedModel:
    """A Zingg model on disk and what it was trained from."""

    model: str
    fingerprint: str
    directory: Path
    labelled_pairs: int
    reviewed_pairs: int
    records: int
    blocking: BlockingTree  # what the learnt blocking splits on
    phases: tuple[PhaseRun, ...]  # no train phase: the model on disk was already current

    @property
    def retrained(self) -> bool:
        return any(p.phase == "train" for p in self.phases)


def read_output(directory: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for part in sorted(directory.glob("part-*.csv")):
        with open(part, newline="", encoding="utf-8") as fh:
            rows.extend(csv.DictReader(fh))
    if not rows and not directory.exists():
        raise ZinggError(f"Zingg wrote no output under {directory}")
    return rows


def _score(row: dict[str, str], *names: str) -> float | None:
    for name in names:
        for key in (name, name.lower()):
            if row.get(key) not in (None, ""):
                return float(row[key])
    return None


def _lowest(a: float | None, b: float | None) -> float | None:
    """A link is as sure as its less sure side; a record's lowest score is its copies' lowest."""
    known = [s for s in (a, b) if s is not None]
    return min(known) if known else None


def _highest(a: float | None, b: float | None) -> float | None:
    known = [s for s in (a, b) if s is not None]
    return max(known) if known else None


def _cluster(row: dict[str, str]) -> str:
    return row.get("z_cluster") or row.get("z_CLUSTER") or ""


def _labelled_pairs(samples: Path | None) -> int:
    if samples is None:
        return 0
    with open(samples, newline="", encoding="utf-8") as fh:
        return len({row["z_cluster"] for row in csv.DictReader(fh)})


def merge_copies(
    rows: list[dict[str, str]], model: ZinggModel
) -> list[tuple[str, str, str, float | None, float | None]]:
    """Zingg's match output as one row per record: (record id, accepted cluster, Zingg's
    cluster, lowest and best score).

    With blocking passes a record comes back once per pass, in a cluster of each pass; the
    clusters that share a record are one (sdp.zingg.passes.Components). A copy whose best
    score is under the model's floor keeps out of its cluster; a record no accepted cluster
    joins to another stays alone (`solo:<id>`). Zingg's cluster is the same join ignoring the
    floor: the review queue pairs a doubtful record with the rest of it."""
    accepted, zingg = Components(), Components()
    accepted_members: dict[str, list[str]] = defaultdict(list)
    zingg_members: dict[str, list[str]] = defaultdict(list)
    low: dict[str, float | None] = {}
    best: dict[str, float | None] = {}
    for row in rows:
        record = model.original(row["record_id"])
        cluster = _cluster(row)
        zingg_members[cluster].append(record)
        top = _score(row, "z_maxScore")
        if model.accepts(top):
            accepted_members[cluster].append(record)
        low[record] = _lowest(low.get(record, top), _score(row, "z_minScore"))
        best[record] = _highest(best.get(record), top)
    for members in accepted_members.values():
        accepted.join(members)
    for members in zingg_members.values():
        zingg.join(members)
    sizes = Counter(accepted.find(r) for r in best)

    def named(components: Components, record: str) -> str:
        return f"cluster:{components.find(record)}"

    return [
        (
            record,
            named(accepted, record) if sizes[accepted.find(record)] > 1 else f"solo:{record}",
            named(zingg, record),
            low[record],
            best[record],
        )
        for record in sorted(best)
    ]


class Reconciler:
    """Export from staging, keep the Zingg models current, run them, write the results back."""

    def __init__(self, conn: Connection, settings: Settings, runner: ZinggRunner | None = None):
        self.conn = conn
        self.settings = settings
        self.runner = runner or ZinggRunner(settings)
        self.work = settings.home / "zingg"

    def _export(self, model: ZinggModel) -> tuple[dict[str, Path], int]:
        inputs = self.work / "input"
        if model.name == "match":
            export = inputs / "crm_customers.csv"
            records = list(crm_records(self.conn, MATCH_FIELDS))
            write_csv(export, MATCH_FIELDS, replicate(records, model.passes))
            return {"crm": export}, len(records)
        crm, billing = inputs / "link_crm.csv", inputs / "link_billing.csv"
        customers = list(crm_records(self.conn, LINK_FIELDS))
        accounts = list(billing_records(self.conn))
        write_csv(crm, LINK_FIELDS, replicate(customers, model.passes))
        write_csv(billing, LINK_FIELDS, replicate(accounts, model.passes))
        return {"crm": crm, "billing": billing}, len(customers) + len(accounts)

    def _train_if_stale(
        self, model: ZinggModel, force: bool = False
    ) -> tuple[TrainedModel, Path, dict[str, Path]]:
        """Export and write the effective config; train when the config, the shipped samples
        or the reviewed pairs changed since the model on disk (or when forced), and read the
        blocking tree of a new model (kept beside it)."""
        inputs, records = self._export(model)
        reviews = review_samples(
            self.conn, model, self.work / "input" / f"{model.name}-reviews.csv"
        )
        twins = self.work / "input" / f"{model.name}-namesakes.csv"
        derived = namesakes(model.samples, model.fields, model.names, twins)
        extra = [p for p in (reviews, derived) if p is not None]
        config = effective_config(model, self.settings, inputs, [model.samples, *extra])
        fingerprint = model.fingerprint(*extra)
        stamp = self.work / "models" / f"{model.template['modelId']}.fingerprint"
        phases: tuple[PhaseRun, ...] = ()
        if force or not stamp.exists() or stamp.read_text() != fingerprint:
            stamp.unlink(missing_ok=True)  # a failed training leaves no current model behind
            phases = (self.runner.run("train", config),)
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(fingerprint)
        directory = self.work / "models" / model.template["modelId"]
        if phases or not (directory / TREE_FILE).exists():
            tree, inspection = inspect_tree(self.runner, directory)
            phases = (*phases, inspection)
        else:
            tree = read_tree(directory / TREE_FILE)
        reviewed = _labelled_pairs(reviews)
        trained = TrainedModel(
            model=model.name,
            fingerprint=fingerprint,
            directory=directory,
            labelled_pairs=_labelled_pairs(model.samples) + _labelled_pairs(derived) + reviewed,
            reviewed_pairs=reviewed,
            records=records,
            blocking=tree,
            phases=phases,
        )
        return trained, config, inputs

    def train(self, name: str, force: bool = False) -> TrainedModel:
        """Bring model `name` up to date (see `_train_if_stale`)."""
        return self._train_if_stale(load_model(name), force)[0]

    def _run(
        self, name: str
    ) -> tuple[list[dict[str, str]], TrainedModel, tuple[PhaseRun, ...], Blocks]:
        # training here is a no-op when the model asset already brought the model up to date
        model = load_model(name)
        trained, config, inputs = self._train_if_stale(model)
        output = self.work / "output" / name
        shutil.rmtree(output, ignore_errors=True)
        phase = self.runner.run(name, config)
        blocks, inspection = inspect_blocks(
            self.runner, trained.directory, inputs, model.fields, model.original
        )
        return read_output(output), trained, (*trained.phases, phase, inspection), blocks

    def match(self) -> ZinggResult:
        rows, trained, phases, blocks = self._run("match")
        model = load_model("match")
        fingerprint = trained.fingerprint
        records = merge_copies(rows, model)
        replace_rows(
            self.conn,
            f"{SCHEMA}.customer_matches",
            (
                "customer_id",
                "z_cluster",
                "zingg_cluster",
                "z_min_score",
                "z_max_score",
                "doubtful",
                "model_fingerprint",
            ),
            ((*record, model.doubtful(record[4]), fingerprint) for record in records),
        )
        return ZinggResult("match", fingerprint, trained.records, len(records), phases, blocks)

    def link(self) -> ZinggResult:
        rows, trained, phases, blocks = self._run("link")
        model = load_model("link")
        fingerprint = trained.fingerprint
        # Zingg tags each output row with the pipe it came from (z_zsource: crm or billing)
        clusters: dict[str, dict[str, list[tuple[str, float | None]]]] = defaultdict(
            lambda: {"crm": [], "billing": []}
        )
        for row in rows:
            side = row.get("z_zsource") or row.get("z_source") or ""
            if side not in ("crm", "billing"):
                raise ZinggError(f"link output row without a known source: {row}")
            clusters[_cluster(row)][side].append(
                (model.original(row["record_id"]), _score(row, "z_score", "z_maxScore"))
            )
        # a pair met in several passes (one cluster each) counts once, as sure as its best pass
        best: dict[tuple[str, str], tuple[str, float | None]] = {}
        for cluster, members in clusters.items():
            for customer, cs in members["crm"]:
                for account, bs in members["billing"]:
                    score = _lowest(cs, bs)
                    known = best.get((customer, account))
                    if known is None or (score or 0.0) > (known[1] or 0.0):
                        best[(customer, account)] = (cluster, score)
        pairs = sorted((*pair, cluster, score) for pair, (cluster, score) in best.items())
        replace_rows(
            self.conn,
            f"{SCHEMA}.customer_links",
            (
                "customer_id",
                "account_id",
                "z_cluster",
                "z_score",
                "accepted",
                "doubtful",
                "model_fingerprint",
            ),
            (
                (*pair, model.accepts(pair[3]), model.doubtful(pair[3]), fingerprint)
                for pair in pairs
            ),
        )
        links = sum(1 for pair in pairs if model.accepts(pair[3]))
        return ZinggResult("link", fingerprint, trained.records, links, phases, blocks)
