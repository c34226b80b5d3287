"""Reconcile customers: export from staging, train and run Zingg, write results to the warehouse.

Results land in schema `reconciliation`: `customer_matches` (one row per CRM record with its
Zingg cluster and scores) and `customer_links` (one row per CRM record ↔ billing account pair
Zingg links, with its score). Each table is replaced whole in one transaction, so a re-run
leaves the same shape and never a half-written result.
"""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from psycopg import Connection

from sdp.settings import Settings
from sdp.zingg.configs import ZinggModel, effective_config, load_model
from sdp.zingg.records import (
    LINK_FIELDS,
    MATCH_FIELDS,
    billing_records,
    crm_records,
    write_csv,
)
from sdp.zingg.runner import PhaseRun, ZinggError, ZinggRunner

SCHEMA = "reconciliation"
DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.customer_matches (
    customer_id text primary key,
    z_cluster text not null,
    z_min_score double precision,
    z_max_score double precision,
    model_fingerprint text not null,
    matched_at timestamptz not null default now()
);
create table if not exists {SCHEMA}.customer_links (
    customer_id text not null,
    account_id text not null,
    z_cluster text not null,
    z_score double precision,
    model_fingerprint text not null,
    linked_at timestamptz not null default now(),
    primary key (customer_id, account_id)
);
create table if not exists {SCHEMA}.match_reviews (
    model text not null check (model in ('match', 'link')),
    left_id text not null,
    right_id text not null,
    decision text not null check (decision in ('confirmed', 'rejected')),
    reviewer text not null,
    note text,
    reviewed_at timestamptz not null default now(),
    primary key (model, left_id, right_id)
);
comment on table {SCHEMA}.match_reviews is
    'pairs a person confirmed or rejected: they override Zingg and join the next training';
"""


@dataclass(frozen=True)
class ZinggResult:
    model: str
    fingerprint: str
    records: int
    output_rows: int
    phases: tuple[PhaseRun, ...]


def ensure_schema(conn: Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtextextended('sdp.reconciliation.ddl', 0))")
        conn.execute(DDL)


def _read_output(directory: Path) -> list[dict[str, str]]:
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


def _pair_score(a: float | None, b: float | None) -> float | None:
    """A link is as sure as its less sure side."""
    known = [s for s in (a, b) if s is not None]
    return min(known) if known else None


def _cluster(row: dict[str, str]) -> str:
    return row.get("z_cluster") or row.get("z_CLUSTER") or ""


class Reconciler:
    def __init__(self, conn: Connection, settings: Settings, runner: ZinggRunner | None = None):
        self.conn = conn
        self.settings = settings
        self.runner = runner or ZinggRunner(settings)
        self.work = settings.home / "zingg"

    def _review_samples(self, model: ZinggModel) -> Path | None:
        """Reviewed pairs in training-sample shape; None when nobody reviewed this model."""
        from sdp.zingg.reviews import review_samples

        return review_samples(self.conn, model, self.work / "input" / f"{model.name}-reviews.csv")

    def _train_and_run(
        self, model: ZinggModel, inputs: dict[str, Path], run_phase: str
    ) -> tuple[list[dict[str, str]], str, tuple[PhaseRun, ...]]:
        reviews = self._review_samples(model)
        samples = [model.samples, *([reviews] if reviews else [])]
        fingerprint = model.fingerprint(reviews)
        config = effective_config(model, self.settings, inputs, samples)
        output = self.work / "output" / model.name
        shutil.rmtree(output, ignore_errors=True)
        stamp = self.work / "models" / f"{model.template['modelId']}.fingerprint"
        phases: list[PhaseRun] = []
        if run_phase == "match" and (not stamp.exists() or stamp.read_text() != fingerprint):
            phases.append(self.runner.run("trainMatch", config))
        else:
            if not stamp.exists() or stamp.read_text() != fingerprint:
                phases.append(self.runner.run("train", config))
            phases.append(self.runner.run(run_phase, config))
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(fingerprint)
        return _read_output(output), fingerprint, tuple(phases)

    def match(self) -> ZinggResult:
        model = load_model("match")
        ensure_schema(self.conn)
        export = self.work / "input" / "crm_customers.csv"
        records = write_csv(export, MATCH_FIELDS, crm_records(self.conn, MATCH_FIELDS))
        rows, fingerprint, phases = self._train_and_run(model, {"crm": export}, "match")
        with self.conn.transaction():
            self.conn.execute(f"delete from {SCHEMA}.customer_matches")
            with self.conn.cursor().copy(
                f"copy {SCHEMA}.customer_matches (customer_id, z_cluster, z_min_score,"
                " z_max_score, model_fingerprint) from stdin"
            ) as copy:
                for row in rows:
                    copy.write_row(
                        (
                            row["record_id"],
                            _cluster(row),
                            _score(row, "z_minScore"),
                            _score(row, "z_maxScore"),
                            fingerprint,
                        )
                    )
        return ZinggResult("match", fingerprint, records, len(rows), phases)

    def link(self) -> ZinggResult:
        model = load_model("link")
        ensure_schema(self.conn)
        crm = self.work / "input" / "link_crm.csv"
        billing = self.work / "input" / "link_billing.csv"
        records = write_csv(crm, LINK_FIELDS, crm_records(self.conn, LINK_FIELDS))
        records += write_csv(billing, LINK_FIELDS, billing_records(self.conn))
        rows, fingerprint, phases = self._train_and_run(
            model, {"crm": crm, "billing": billing}, "link"
        )
        # Zingg tags each output row with the pipe it came from (z_zsource: crm or billing)
        clusters: dict[str, dict[str, list[tuple[str, float | None]]]] = defaultdict(
            lambda: {"crm": [], "billing": []}
        )
        for row in rows:
            side = row.get("z_zsource") or row.get("z_source") or ""
            if side not in ("crm", "billing"):
                raise ZinggError(f"link output row without a known source: {row}")
            clusters[_cluster(row)][side].append(
                (row["record_id"], _score(row, "z_score", "z_maxScore"))
            )
        links = sorted(
            (customer, account, cluster, _pair_score(cs, bs))
            for cluster, members in clusters.items()
            for customer, cs in members["crm"]
            for account, bs in members["billing"]
        )
        with self.conn.transaction():
            self.conn.execute(f"delete from {SCHEMA}.customer_links")
            with self.conn.cursor().copy(
                f"copy {SCHEMA}.customer_links (customer_id, account_id, z_cluster, z_score,"
                " model_fingerprint) from stdin"
            ) as copy:
                for customer, account, cluster, score in links:
                    copy.write_row((customer, account, cluster, score, fingerprint))
        pairs = links
        return ZinggResult("link", fingerprint, records, len(pairs), phases)
