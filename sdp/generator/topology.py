"""The radio and core network: regions → sites → core elements and cells.

Each region has a core site with one SMSC, SGSN and PGW and as many MSCs as its lines need; cell
sites carry an eNodeB and often a gNodeB whose parent_element_id is the MSC serving the site.
Voice CDRs come from the MSC of the cell the call used, SMS from the region's SMSC and data
sessions from its PGW, so a fault on one core element shows up in one region's CDRs of one
service, and a cell rolls up to its core element.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sdp.generator.market import Market
from sdp.generator.randomness import stream

# the service whose CDRs each mediated core element produces
CDR_ELEMENT_SERVICE = {"msc": "voice", "smsc": "sms", "pgw": "data"}
VENDORS = ("Ericsson", "Nokia", "Huawei", "Samsung", "ZTE")
LINES_PER_SITE = 250
LINES_PER_MSC = 60_000
MIN_SITES = 4


@dataclass(frozen=True)
class Element:
    id: str
    type: str
    vendor: str
    region: str
    site_id: str
    parent: str | None
    commissioned: date


@dataclass(frozen=True)
class Topology:
    elements: tuple[Element, ...]
    by_id: Mapping[str, Element]
    cells: Mapping[str, tuple[str, ...]]  # region -> cell ids
    cell_msc: Mapping[str, str]  # cell id -> the MSC that serves it
    smsc: Mapping[str, str]  # region -> SMSC id
    pgw: Mapping[str, str]  # region -> PGW id

    @property
    def cdr_elements(self) -> tuple[Element, ...]:
        """The mediated core elements, one CDR feed each, in a stable order."""
        return tuple(e for e in self.elements if e.type in CDR_ELEMENT_SERVICE)


def build_topology(seed: int, market: Market, lines_by_region: Mapping[str, int]) -> Topology:
    rng = stream(seed, "topology")
    elements: list[Element] = []
    cells: dict[str, tuple[str, ...]] = {}
    smsc: dict[str, str] = {}
    pgw: dict[str, str] = {}

    def commissioned(earliest: int) -> date:
        return date(earliest, 1, 1) + timedelta(days=rng.randrange(365 * 3))

    name = market.element
    for region in market.regions:
        code = region.code
        lines = lines_by_region.get(code, 0)
        core_site = name("core_site", code)
        vendor = VENDORS[rng.randrange(len(VENDORS))]
        mscs = [name("msc", code, n) for n in range(1, 2 + lines // LINES_PER_MSC)]
        for msc in mscs:
            elements.append(Element(msc, "msc", vendor, code, core_site, None, commissioned(2014)))
        smsc[code], pgw[code] = name("smsc", code), name("pgw", code)
        sgsn = name("sgsn", code)
        elements.append(
            Element(smsc[code], "smsc", vendor, code, core_site, None, commissioned(2014))
        )
        elements.append(
            Element(pgw[code], "pgw", vendor, code, core_site, None, commissioned(2016))
        )
        elements.append(
            Element(sgsn, "sgsn", vendor, code, core_site, pgw[code], commissioned(2014))
        )
        radio_vendor = VENDORS[rng.randrange(len(VENDORS))]
        region_cells = []
        for site in range(1, max(MIN_SITES, math.ceil(lines / LINES_PER_SITE)) + 1):
            site_id = name("cell_site", code, site)
            msc = mscs[site % len(mscs)]
            enb = name("enodeb", code, site)
            elements.append(
                Element(enb, "enodeb", radio_vendor, code, site_id, msc, commissioned(2016))
            )
            region_cells.append(enb)
            if rng.random() < 0.5:
                gnb = name("gnodeb", code, site)
                elements.append(
                    Element(gnb, "gnodeb", radio_vendor, code, site_id, msc, commissioned(2021))
                )
                region_cells.append(gnb)
        cells[code] = tuple(region_cells)
    by_id = {element.id: element for element in elements}
    cell_msc = {
        cell: by_id[cell].parent or "" for region_cells in cells.values() for cell in region_cells
    }
    return Topology(tuple(elements), by_id, cells, cell_msc, smsc, pgw)
