"""Pairwise precision, recall and F1 of customer matching and linking against the ground truth.

Match: every two CRM records in one Zingg cluster is a predicted duplicate pair; the truth is
`duplicates.crm_crm`. Link: every (customer, account) pair the platform answers, against
`duplicates.crm_billing`. Zingg links an account to one CRM record; the platform's answer also
gives that account to the record's CRM duplicates (the same person), as the golden customer does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations

from psycopg import Connection

from sdp.zingg.blocking import Blocks


def pair_metrics(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else (1.0 if not truth else 0.0)
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "predicted_pairs": len(predicted),
        "true_pairs": len(truth),
        "correct_pairs": hits,
    }


def cluster_pairs(memberships: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    clusters: dict[str, list[str]] = defaultdict(list)
    for record, cluster in memberships:
        clusters[cluster].append(record)
    return {
        tuple(sorted(p))  # type: ignore[misc]
        for members in clusters.values()
        for p in combinations(sorted(members), 2)
    }


def truth_pairs(truth: dict) -> dict[str, set[tuple[str, str]]]:
    """The true pairs of each model: CRM duplicates (sorted ids) and CRM -> billing links."""
    return {
        "match": {tuple(sorted(p)) for p in truth["duplicates"]["crm_crm"]},  # type: ignore[misc]
        "link": {(c, a) for c, a in truth["duplicates"]["crm_billing"]},
    }


def blocking_recall(blocks: Blocks, true_pairs: set[tuple[str, str]]) -> dict:
    """How many true pairs Zingg's blocking put in one block, i.e. ever compared."""
    compared = blocks.compared(true_pairs)
    return {
        "true_pairs": len(true_pairs),
        "true_pairs_compared": len(compared),
        "blocking_recall": round(len(compared) / len(true_pairs), 4) if true_pairs else 1.0,
    }


def score_matching(conn: Connection, truth: dict) -> dict:
    matched = conn.execute("select exists (select from reconciliation.customer_matches)")
    if not matched.fetchone()[0]:
        return {}  # Zingg has not matched yet
    memberships = conn.execute(
        "select customer_id, z_cluster from reconciliation.customer_matches"
    ).fetchall()
    cluster_of = dict(memberships)
    members: dict[str, list[str]] = defaultdict(list)
    for customer, cluster in memberships:
        members[cluster].append(customer)
    links = {
        (peer, account)
        for customer, account in conn.execute(
            "select customer_id, account_id from reconciliation.customer_links where accepted"
        )
        for peer in members.get(cluster_of.get(customer, ""), [customer]) or [customer]
    }
    pairs = truth_pairs(truth)
    return {
        "match": pair_metrics(cluster_pairs(memberships), pairs["match"]),  # type: ignore[arg-type]
        "link": pair_metrics(links, pairs["link"]),
    }
