"""Graph reasoning: explain a symptom by the most upstream cause that accounts for it.

Two graphs, both with edges pointing the way a fault propagates:

- the asset lineage (`raw/cdr_records` → `staging/stg_cdr__records` → `marts/cdrs` → ...), as
  the code location exports it: a late or rejected raw batch explains the anomaly on every mart
  built from it, so an anomaly on a mart whose raw ancestor has a suspect is that suspect's;
- the OSS topology (region → site → element, and core element → the elements it serves): a
  drop over a region explained by one core element with a critical alarm is that element's.

Suspects carry their own evidence score; the graphs decide which suspects can explain the
symptom at all and prefer, among those that can, the one furthest upstream, because fixing it
fixes everything below it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx

SEVERITY_WEIGHT = {"critical": 1.0, "major": 0.6, "minor": 0.3, "warning": 0.1}


@dataclass(frozen=True)
class Suspect:
    """Something observed that could be a cause: a late batch, a reject burst, an alarm."""

    node: str  # an asset key ("raw/cdr_records") or a topology node ("MSC-NWE-01")
    kind: str  # late_batch, rejects, schema_drift, critical_alarm, ...
    score: float  # strength of the evidence, 0..1
    evidence: str
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    suspect: Suspect
    path: tuple[str, ...]  # from the suspect down to the symptom
    coverage: float  # share of the symptom the suspect accounts for, 0..1
    rank_score: float
    explains: tuple[str, ...] = ()  # other suspects this one sits upstream of

    @property
    def hops(self) -> int:
        return len(self.path) - 1

    def describe(self) -> str:
        s = self.suspect
        via = " → ".join(self.path)
        return f"{s.kind} on {s.node} ({s.evidence}); {self.coverage:.0%} of the symptom, via {via}"


def lineage_graph(edges: Iterable[tuple[str, str]]) -> nx.DiGraph:
    """Asset lineage from (upstream, downstream) pairs of asset keys such as `raw/cdr_records`."""
    graph = nx.DiGraph()
    graph.add_edges_from(edges)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = nx.find_cycle(graph)
        raise ValueError(f"asset lineage has a cycle: {cycle}")
    return graph


def topology_graph(elements: Iterable[Mapping[str, object]]) -> nx.DiGraph:
    """Region → site → element, plus parent element → served element.

    `elements` are rows with `network_element_id`, `region`, `site_id` and `parent_element_id`
    (the OSS inventory). Regions and sites are prefixed (`region:NWE`, `site:NWE-CORE`) so that
    their names never collide with element ids.
    """
    graph = nx.DiGraph()
    for row in elements:
        element = str(row["network_element_id"])
        region = f"region:{row['region']}"
        site = f"site:{row['site_id']}"
        graph.add_edge(region, site)
        graph.add_edge(site, element)
        parent = row.get("parent_element_id")
        if parent:
            graph.add_edge(str(parent), element)
    return graph


def explain_in_lineage(
    graph: nx.DiGraph, symptom: str, suspects: Iterable[Suspect], min_score: float = 0.2
) -> list[Explanation]:
    """Suspects on the symptom's asset or upstream of it, most upstream first.

    A suspect downstream of another suspect is listed as explained by it, so the analyst sees
    one cause and its consequences rather than a list of equal-looking alarms.
    """
    if symptom not in graph:
        raise KeyError(f"{symptom} is not an asset of the lineage")
    reachable = nx.ancestors(graph, symptom) | {symptom}
    candidates = [s for s in suspects if s.node in reachable and s.score >= min_score]
    explanations = []
    for suspect in candidates:
        path = tuple(nx.shortest_path(graph, suspect.node, symptom))
        below = tuple(
            other.node
            for other in candidates
            if other is not suspect
            and other.node != suspect.node
            and nx.has_path(graph, suspect.node, other.node)
        )
        # upstream first: each hop above the symptom and each suspect explained adds weight
        rank = suspect.score * (1 + 0.25 * (len(path) - 1) + 0.5 * len(below))
        explanations.append(Explanation(suspect, path, 1.0, rank, below))
    explained = {node for e in explanations for node in e.explains}
    roots = [e for e in explanations if e.suspect.node not in explained]
    rest = [e for e in explanations if e.suspect.node in explained]
    return sorted(roots, key=_by_rank) + sorted(rest, key=_by_rank)


def explain_in_topology(
    graph: nx.DiGraph,
    affected: Mapping[str, float],
    suspects: Iterable[Suspect],
    min_coverage: float = 0.5,
) -> list[Explanation]:
    """Which suspect's subtree accounts for the symptom, spread over `affected` nodes.

    `affected` maps topology nodes to their share of the symptom (e.g. the CDR deficit per
    element in a regional drop). A suspect explains the part of the symptom in its subtree;
    candidates that explain at least `min_coverage` are ranked by coverage × evidence, and
    between equals the most upstream (the one with the larger subtree) wins.
    """
    total = sum(v for v in affected.values() if v > 0)
    if total <= 0:
        return []
    explanations = []
    for suspect in suspects:
        if suspect.node not in graph:
            continue
        subtree = nx.descendants(graph, suspect.node) | {suspect.node}
        share = sum(affected.get(n, 0.0) for n in subtree if affected.get(n, 0.0) > 0) / total
        if share < min_coverage:
            continue
        touched = [n for n in subtree if affected.get(n, 0.0) > 0]
        path = _path_to_affected(graph, suspect.node, touched)
        rank = share * suspect.score * (1 + 0.01 * len(subtree))
        explanations.append(Explanation(suspect, path, share, rank))
    return sorted(explanations, key=_by_rank)


def alarm_suspects(alarms: Iterable[Mapping[str, object]]) -> list[Suspect]:
    """One suspect per element: its worst alarm in the window, weighted by severity."""
    worst: dict[str, Mapping[str, object]] = {}
    for alarm in alarms:
        element = str(alarm["network_element_id"])
        weight = SEVERITY_WEIGHT.get(str(alarm["severity"]), 0.0)
        if weight > SEVERITY_WEIGHT.get(str(worst.get(element, {}).get("severity")), -1.0):
            worst[element] = alarm
    return [
        Suspect(
            node=element,
            kind=f"{alarm['severity']}_alarm",
            score=SEVERITY_WEIGHT.get(str(alarm["severity"]), 0.0),
            evidence=f"{alarm['severity']} {alarm.get('alarm_type', 'alarm')} "
            f"{alarm.get('alarm_id', '')} raised {alarm.get('raised_at', '?')}".strip(),
            detail=dict(alarm),
        )
        for element, alarm in sorted(worst.items())
    ]


def _path_to_affected(graph: nx.DiGraph, node: str, touched: list[str]) -> tuple[str, ...]:
    """The longest of the paths from the suspect to the affected nodes it covers."""
    paths = [nx.shortest_path(graph, node, target) for target in touched]
    return tuple(max(paths, key=len)) if paths else (node,)


def _by_rank(e: Explanation) -> tuple[float, int, str]:
    return (-e.rank_score, -e.hops, e.suspect.node)
