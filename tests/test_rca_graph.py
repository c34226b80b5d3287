"""Graph reasoning over the asset lineage and the OSS topology."""

from __future__ import annotations

import pytest

from orchestration.definitions import defs
from orchestration.lineage import lineage_edges
from rca.graph import (
    Suspect,
    alarm_suspects,
    explain_in_lineage,
    explain_in_topology,
    lineage_graph,
    topology_graph,
)
from rca.recommend import recommend

LINEAGE = [
    ("raw/cdr_records", "staging/stg_cdr__records"),
    ("staging/stg_cdr__records", "marts/cdrs"),
    ("raw/billing_usage", "staging/stg_billing__usage"),
    ("staging/stg_billing__usage", "marts/billed_usage"),
    ("marts/cdrs", "marts/billed_usage"),
    ("marts/billed_usage", "controls/ctl_usage_completeness"),
]
ELEMENTS = [
    {"network_element_id": e, "region": r, "site_id": s, "parent_element_id": p}
    for e, r, s, p in [
        ("MSC-NWE-01", "NWE", "NWE-CORE", None),
        ("MSC-NWE-02", "NWE", "NWE-CORE", None),
        ("ENB-NWE-0001", "NWE", "NWE-0001", "MSC-NWE-01"),
        ("ENB-NWE-0002", "NWE", "NWE-0002", "MSC-NWE-01"),
        ("ENB-NWE-0003", "NWE", "NWE-0003", "MSC-NWE-02"),
        ("MSC-LON-01", "LON", "LON-CORE", None),
    ]
]


def test_a_control_exception_is_explained_by_the_late_raw_batch_upstream():
    graph = lineage_graph(LINEAGE)
    late = Suspect("raw/cdr_records", "late_batch", 0.8, "batch landed 54 h late")
    stale = Suspect("staging/stg_cdr__records", "freshness", 0.9, "no rows for 2026-10-30")
    ranked = explain_in_lineage(graph, "controls/ctl_usage_completeness", [stale, late])
    assert ranked[0].suspect is late
    assert ranked[0].explains == ("staging/stg_cdr__records",)
    assert ranked[0].path[0] == "raw/cdr_records"
    assert ranked[0].path[-1] == "controls/ctl_usage_completeness"
    assert "late_batch on raw/cdr_records" in ranked[0].describe()


def test_a_suspect_that_is_not_upstream_explains_nothing():
    graph = lineage_graph(LINEAGE)
    elsewhere = Suspect("raw/billing_usage", "rejects", 0.9, "12% rejected")
    assert explain_in_lineage(graph, "marts/cdrs", [elsewhere]) == []


def test_a_lineage_with_a_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        lineage_graph([("a", "b"), ("b", "a")])


def test_a_regional_drop_is_explained_by_the_core_element_with_a_critical_alarm():
    graph = topology_graph(ELEMENTS)
    affected = {"MSC-NWE-01": 250.0, "ENB-NWE-0001": 30.0, "ENB-NWE-0003": 5.0}
    suspects = alarm_suspects(
        [
            {"network_element_id": "MSC-NWE-01", "severity": "critical", "alarm_id": "A1"},
            {"network_element_id": "MSC-NWE-01", "severity": "minor", "alarm_id": "A2"},
            {"network_element_id": "ENB-NWE-0003", "severity": "major", "alarm_id": "A3"},
            {"network_element_id": "MSC-LON-01", "severity": "critical", "alarm_id": "A4"},
        ]
    )
    ranked = explain_in_topology(graph, affected, suspects)
    top = ranked[0]
    assert top.suspect.node == "MSC-NWE-01" and top.suspect.kind == "critical_alarm"
    assert top.coverage == pytest.approx(280 / 285)
    assert {e.suspect.node for e in ranked} == {"MSC-NWE-01"}  # the others cover too little


def test_the_code_locations_lineage_is_a_plain_acyclic_graph_from_raw_to_controls():
    edges = lineage_edges(defs)
    assert ("raw/cdr_records", "staging/stg_cdr__records") in edges
    assert ("raw/cdr_events", "staging/stg_cdr__records") in edges
    graph = lineage_graph(edges)
    assert "raw/cdr_records" in graph.nodes and "controls/ctl_exceptions" in graph.nodes
    assert graph.has_node("controls/ctl_leakage_daily")
    from networkx import has_path

    assert has_path(graph, "raw/cdr_records", "controls/ctl_leakage_daily")


def test_recommendations_name_what_to_act_on_and_show_missing_facts():
    action = recommend(
        "wrong_tariff", {"plan_code": "SIMO-5GB", "service_type": "data", "start": "2026-10-30"}
    )
    assert action.startswith("re-rate plan SIMO-5GB data usage from 2026-10-30")
    assert "<batch>" in recommend("late_batch", {"start": "2026-10-30"})
    assert recommend("solar_flare", {}) == "investigate the solar flare reported here"
