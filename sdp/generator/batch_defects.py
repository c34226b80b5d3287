"""Defects that change how a batch lands, not what it holds: a late batch and schema drift."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sdp.generator.clock import DAY, HOUR, Window
from sdp.generator.incidents import Incident
from sdp.generator.scenario import LateBatch, SchemaDrift
from sdp.generator.topology import CDR_ELEMENT_SERVICE, Topology

NO_DRIFT: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {})


@dataclass(frozen=True)
class FeedKey:
    """Which batch: entity, partition day, the CDR feed's element, and its sequence number."""

    source: str
    entity: str
    day: int
    element: str | None
    seq: int


@dataclass
class _Landed:
    batch_ids: list[str] = field(default_factory=list)
    rows: int = 0
    landed_at: int = 0


class BatchDefects:
    def __init__(self, late: list[LateBatch], drifts: list[SchemaDrift]) -> None:
        self.late = late
        self.drifts = drifts
        self._landed: dict[str, _Landed] = {d.id: _Landed() for d in [*late, *drifts]}

    def _late(self, key: FeedKey) -> LateBatch | None:
        for spec in self.late:
            if (
                (spec.source, spec.entity, spec.network_element_id)
                == (key.source, key.entity, key.element)
                and spec.day - 1 == key.day
                and key.seq == 1
            ):
                return spec
        return None

    def _drift(self, key: FeedKey) -> SchemaDrift | None:
        for spec in self.drifts:
            if (
                (spec.source, spec.entity) == (key.source, key.entity)
                and key.day >= spec.day - 1
                and spec.network_element_id in (None, key.element)
            ):
                return spec
        return None

    def delay(self, key: FeedKey) -> int:
        spec = self._late(key)
        return 0 if spec is None else round(spec.delay_hours * HOUR)

    def drift(self, key: FeedKey) -> tuple[Mapping[str, str], Mapping[str, str]]:
        spec = self._drift(key)
        return NO_DRIFT if spec is None else (spec.rename, spec.add)

    def landed(self, key: FeedKey, batch_id: str, rows: int, landed_at: int) -> None:
        for spec in (self._late(key), self._drift(key)):
            if spec is not None:
                landed = self._landed[spec.id]
                landed.batch_ids.append(batch_id)
                landed.rows += rows
                landed.landed_at = landed_at

    def incidents(self, window: Window, topology: Topology) -> dict[str, Incident]:
        found: dict[str, Incident] = {}
        for spec in self.late:
            landed = self._landed[spec.id]
            if not landed.batch_ids:
                raise RuntimeError(f"late_batch {spec.id}: no batch matched; the plan missed it")
            delay = round(spec.delay_hours * HOUR)
            found[spec.id] = Incident(
                id=spec.id,
                kind=spec.kind,
                source=spec.source,
                entity=spec.entity,
                start=window.at((spec.day - 1) * DAY),
                end=window.at(spec.day * DAY),
                rows_affected=landed.rows,
                revenue_impact=0,
                impact_basis="none: the rows arrive complete, only late (counts the batch's rows)",
                **_feed_dimensions(spec.network_element_id, topology),
                detail={
                    "batch_id": landed.batch_ids[0],
                    "delay_hours": spec.delay_hours,
                    "expected_landed_at": window.at(landed.landed_at - delay).isoformat(),
                    "landed_at": window.at(landed.landed_at).isoformat(),
                },
            )
        for drift in self.drifts:
            landed = self._landed[drift.id]
            found[drift.id] = Incident(
                id=drift.id,
                kind=drift.kind,
                source=drift.source,
                entity=drift.entity,
                start=window.at((drift.day - 1) * DAY),
                end=window.at(window.seconds),
                rows_affected=landed.rows,
                revenue_impact=0,
                impact_basis="none: a shape change (counts rows landed in the new shape)",
                **_feed_dimensions(drift.network_element_id, topology),
                detail={
                    "batch_ids": sorted(landed.batch_ids),
                    "renamed": dict(drift.rename),
                    "added": sorted(drift.add),
                },
            )
        return found


def _feed_dimensions(element_id: str | None, topology: Topology) -> dict[str, str | None]:
    if element_id is None:
        return {}
    element = topology.by_id[element_id]
    return {
        "network_element_id": element_id,
        "region": element.region,
        "service_type": CDR_ELEMENT_SERVICE[element.type],
    }
