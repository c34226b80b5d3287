"""`sdp score` for RCA: the top-ranked cause against the injected incidents."""

from __future__ import annotations

from sdp.scoring.rca import Place, incident_places, score_rca

TRUTH = {
    "incidents": [
        {
            "id": "drop",
            "kind": "cdr_drop",
            "source": "cdr",
            "entity": "records",
            "dimensions": {"network_element_id": "MSC-NWE-01", "region": "NWE"},
            "window": {"start": "2026-10-29T14:00:00+00:00", "end": "2026-10-29T17:00:00+00:00"},
        },
        {
            "id": "lines",
            "kind": "unbilled_provisioning",
            "source": "oss",
            "entity": "provisioning",
            "dimensions": {"plan_code": "UNL-PLUS", "region": "LON", "service_type": None},
            "window": {"start": "2026-10-27T00:00:00+00:00", "end": "2026-11-03T00:00:00+00:00"},
        },
        {
            "id": "late",
            "kind": "late_batch",
            "source": "billing",
            "entity": "usage",
            "dimensions": {},
            "window": {"start": "2026-10-31T00:00:00+00:00", "end": "2026-11-01T00:00:00+00:00"},
        },
        {
            "id": "dupes",
            "kind": "duplicate_customers",
            "source": "crm",
            "entity": "customers",
            "dimensions": {},
            "window": {"start": "2026-10-27T00:00:00+00:00", "end": "2026-11-03T00:00:00+00:00"},
        },
    ]
}


def test_an_incident_is_placed_at_its_element_else_its_plan_or_region_else_its_feed():
    drop, lines, late, _ = TRUTH["incidents"]
    assert incident_places(drop) == {Place("network_element_id", "MSC-NWE-01")}
    assert incident_places(lines) == {Place("plan_code", "UNL-PLUS"), Place("region", "LON")}
    assert incident_places(late) == {Place("feed", "billing.usage")}


def test_only_a_top_cause_of_the_right_kind_place_and_window_counts(conn):
    assert score_rca(conn, TRUTH) == {}  # RCA has not run
    rows = [
        # right kind and element, overlapping window: correct
        (
            1,
            "cdr_drop",
            "network_element_id",
            "MSC-NWE-01",
            "2026-10-29 15:00Z",
            "2026-10-29 16:00Z",
        ),
        # right kind and region, but ranked second: does not count
        (2, "unbilled_provisioning", "region", "LON", "2026-10-27Z", "2026-11-03Z"),
        # right feed and kind, wrong window
        (1, "late_batch", "feed", "billing.usage", "2026-10-28Z", "2026-10-29Z"),
    ]
    for n, row in enumerate(rows):
        conn.execute(
            "insert into rca.findings (finding_id, symptom, metric, amount, finding_start,"
            " finding_end, cause_rank, cause_kind, dimension, dimension_value, window_start,"
            " window_end, score, evidence, recommendation)"
            " values (%s, 's', 'm', 0, %s, %s, %s, %s, %s, %s, %s, %s, 1, 'e', 'r')",
            (f"f{n}", row[4], row[5], *row),
        )
    result = score_rca(conn, TRUTH)
    assert result["incidents"] == 3  # duplicate customers are not RCA's
    assert result["top1_correct"] == 1 and result["top1_accuracy"] == 0.3333
    assert result["missed"] == ["lines", "late"]
