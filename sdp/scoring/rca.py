"""`sdp score` for root-cause analysis: is each injected incident some finding's top cause?

A finding's top-ranked cause is correct for an incident when it names the incident's kind, the
incident's place and a window that overlaps the incident's. The place is the network element
when the incident has one (a region would be too coarse); else its plan or its region (either
locates unbilled lines); else its service; else the feed it hit. A GL mismatch's place is its
revenue stream (recurring has no service).
Data-quality incidents on customer records (duplicates, bad contacts) are the matching and
quality scores' business, not RCA's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import Connection

FINDINGS = "rca.findings"
NOT_RCA = {"duplicate_customers", "bad_contact_data"}


@dataclass(frozen=True)
class Place:
    dimension: str
    value: str


def incident_places(incident: dict) -> set[Place]:
    """The places a correct cause may name for the incident (see the module docstring)."""
    if incident["kind"] == "gl_mismatch":
        return {Place("revenue_stream", str(incident["detail"]["revenue_stream"]))}
    dims = {k: str(v) for k, v in (incident.get("dimensions") or {}).items() if v}
    for names in (("network_element_id",), ("plan_code", "region"), ("service_type",)):
        places = {Place(n, dims[n]) for n in names if n in dims}
        if places:
            return places
    return {Place("feed", f"{incident['source']}.{incident['entity']}")}


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def score_rca(conn: Connection, truth: dict) -> dict:
    """{incidents, top1_correct, top1_accuracy, missed}; empty when RCA has written nothing."""
    if not conn.execute(f"select exists (select from {FINDINGS})").fetchone()[0]:
        return {}
    top = conn.execute(
        f"select cause_kind, dimension, dimension_value, window_start, window_end"
        f" from {FINDINGS} where cause_rank = 1"
    ).fetchall()
    incidents = [i for i in truth.get("incidents", []) if i["kind"] not in NOT_RCA]
    correct, missed = 0, []
    for incident in incidents:
        places = incident_places(incident)
        start = datetime.fromisoformat(incident["window"]["start"])
        end = datetime.fromisoformat(incident["window"]["end"])
        hit = any(
            kind == incident["kind"]
            and Place(dimension, value) in places
            and _overlaps(w_start, w_end, start, end)
            for kind, dimension, value, w_start, w_end in top
        )
        if hit:
            correct += 1
        else:
            missed.append(incident["id"])
    return {
        "incidents": len(incidents),
        "top1_correct": correct,
        "top1_accuracy": round(correct / len(incidents), 4) if incidents else 1.0,
        "findings": len(top),
        "missed": missed,
    }
