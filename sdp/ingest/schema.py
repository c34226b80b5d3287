"""Names in schema `raw`: the contract's tables and the loads' bookkeeping.

The tables themselves are created by the migrations (`sdp/migrations/`), never here: loads
only write rows.
"""

from __future__ import annotations

from sdp.contracts import Entity

SCHEMA = "raw"
REJECTS_TABLE = "_rejects"
LOADS_TABLE = "_loads"
OFFSETS_TABLE = "_stream_offsets"


def line_sequence(entity: Entity) -> str:
    """The sequence that numbers an entity's rows when a load does not give a line."""
    return f"{entity.qualified}__line"
