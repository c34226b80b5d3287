"""Incidents and the ground-truth file the controls, Zingg and RCA are scored against.

Money is tallied in integer ten-thousandths (the contract's 4 places) while generating, which
is exact and cheap by the million, and rendered as a decimal string with 4 places here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

GROUND_TRUTH = "ground_truth.json"


def money(ten_thousandths: int) -> str:
    return f"{Decimal(ten_thousandths).scaleb(-4):.4f}"


def to_units(amount: Decimal) -> int:
    """A 4-place amount as integer ten-thousandths."""
    return int(amount.scaleb(4))


@dataclass
class Tally:
    """What one defect did so far: rows it touched and the money involved."""

    rows: int = 0
    impact: int = 0  # ten-thousandths
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, amount: Decimal | None = None, rows: int = 1) -> None:
        self.rows += rows
        if amount is not None:
            self.impact += to_units(amount)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


@dataclass(frozen=True)
class Incident:
    id: str
    kind: str
    source: str
    entity: str
    start: datetime
    end: datetime
    rows_affected: int
    revenue_impact: int  # ten-thousandths, signed as impact_basis says
    impact_basis: str
    network_element_id: str | None = None
    region: str | None = None
    plan_code: str | None = None
    service_type: str | None = None
    detail: Mapping[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "source": self.source,
            "entity": self.entity,
            "dimensions": {
                "network_element_id": self.network_element_id,
                "region": self.region,
                "plan_code": self.plan_code,
                "service_type": self.service_type,
            },
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "rows_affected": self.rows_affected,
            "revenue_impact": money(self.revenue_impact),
            "impact_basis": self.impact_basis,
            "detail": dict(self.detail),
        }


def write_ground_truth(
    root: Path,
    *,
    scenario: str,
    seed: int,
    operator: Mapping[str, object],
    sizes: Mapping[str, object],
    window: tuple[datetime, datetime],
    incidents: Sequence[Incident],
    skipped: Sequence[Mapping[str, str]],
    crm_crm: Sequence[tuple[str, str]],
    crm_billing: Sequence[tuple[str, str]],
) -> Path:
    """Keys sorted, lists in a fixed order: the file is byte-identical for the same inputs."""
    body = {
        "scenario": scenario,
        "seed": seed,
        "operator": dict(operator),
        "sizes": dict(sizes),
        "window": {"start": window[0].isoformat(), "end": window[1].isoformat()},
        "incidents": [incident.as_json() for incident in incidents],
        "skipped": list(skipped),
        "duplicates": {
            "crm_crm": [list(pair) for pair in sorted(crm_crm)],
            "crm_billing": [list(pair) for pair in sorted(crm_billing)],
        },
    }
    path = root / GROUND_TRUTH
    tmp = root / f".{GROUND_TRUTH}.tmp"
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(path)
    return path
