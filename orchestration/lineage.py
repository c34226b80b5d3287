"""The asset lineage as a plain graph, for root-cause analysis (which never imports Dagster)."""

from dagster import Definitions


def lineage_edges(defs: Definitions) -> list[tuple[str, str]]:
    """(upstream, downstream) pairs of asset keys written `raw/cdr_records`, sorted."""
    graph = defs.resolve_asset_graph()
    edges = {
        (parent.to_user_string(), key.to_user_string())
        for key in graph.get_all_asset_keys()
        for parent in graph.get(key).parent_keys
    }
    return sorted(edges)
