"""Reviewed pairs (the seed's /validate-matches): a person's decision beats Zingg's.

`reconciliation.match_reviews` holds pairs confirmed or rejected by a reviewer. They override
Zingg's decision in the golden customer (dbt) and become labelled samples at the next training.
"""

from __future__ import annotations

from pathlib import Path

from psycopg import Connection

from sdp.zingg.configs import ZinggModel
from sdp.zingg.records import billing_records, crm_records
from sdp.zingg.samples import pair_rows, write_samples

DECISIONS = ("confirmed", "rejected")


class ReviewError(ValueError):
    pass


def record_review(
    conn: Connection,
    model: str,
    left_id: str,
    right_id: str,
    decision: str,
    reviewer: str,
    note: str | None = None,
) -> None:
    """Insert or replace a decision; the latest review of a pair is the one that counts."""
    if model not in ("match", "link"):
        raise ReviewError(f"model {model!r} is neither 'match' nor 'link'")
    if decision not in DECISIONS:
        raise ReviewError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if left_id == right_id:
        raise ReviewError(f"a pair needs two records, got {left_id!r} twice")
    if model == "match" and right_id < left_id:
        left_id, right_id = right_id, left_id  # a CRM pair has no direction
    conn.execute(
        "insert into reconciliation.match_reviews"
        " (model, left_id, right_id, decision, reviewer, note)"
        " values (%s, %s, %s, %s, %s, %s)"
        " on conflict (model, left_id, right_id) do update set decision = excluded.decision,"
        " reviewer = excluded.reviewer, note = excluded.note, reviewed_at = now()",
        (model, left_id, right_id, decision, reviewer, note),
    )


def review_samples(conn: Connection, model: ZinggModel, path: Path) -> Path | None:
    reviews = conn.execute(
        "select left_id, right_id, decision from reconciliation.match_reviews"
        " where model = %s order by left_id, right_id",
        (model.name,),
    ).fetchall()
    if not reviews:
        path.unlink(missing_ok=True)
        return None
    left = {r["record_id"]: r for r in crm_records(conn, model.fields)}
    right = left if model.name == "match" else {r["record_id"]: r for r in billing_records(conn)}
    rows = []
    for n, (a, b, decision) in enumerate(reviews):
        if a in left and b in right:
            rows += pair_rows(f"r{n}", decision == "confirmed", left[a], right[b], model.fields)
    write_samples(path, rows, model.fields)
    return path
