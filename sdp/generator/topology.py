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

from sdp.generator.randomness import stream


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    weight: float  # share of the customers living there
    cities: tuple[tuple[str, tuple[str, ...]], ...]  # city, its postcode areas


REGIONS = (
    Region("LON", "Greater London", 0.30, (("London", ("E", "N", "SE", "SW", "W", "NW", "EC")),)),
    Region(
        "NWE",
        "North West",
        0.16,
        (
            ("Manchester", ("M",)),
            ("Salford", ("M",)),
            ("Stockport", ("SK",)),
            ("Liverpool", ("L",)),
        ),
    ),
    Region(
        "MID",
        "Midlands",
        0.16,
        (("Birmingham", ("B",)), ("Coventry", ("CV",)), ("Wolverhampton", ("WV",))),
    ),
    Region(
        "SCO",
        "Scotland",
        0.12,
        (("Glasgow", ("G",)), ("Edinburgh", ("EH",)), ("Aberdeen", ("AB",))),
    ),
    Region(
        "SWE", "South West", 0.10, (("Bristol", ("BS",)), ("Bath", ("BA",)), ("Exeter", ("EX",)))
    ),
    Region(
        "YRK",
        "Yorkshire",
        0.16,
        (("Leeds", ("LS",)), ("Sheffield", ("S",)), ("York", ("YO",)), ("Bradford", ("BD",))),
    ),
)
REGION_INDEX = {region.code: i for i, region in enumerate(REGIONS)}
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


def build_topology(seed: int, lines_by_region: Mapping[str, int]) -> Topology:
    rng = stream(seed, "topology")
    elements: list[Element] = []
    cells: dict[str, tuple[str, ...]] = {}
    smsc: dict[str, str] = {}
    pgw: dict[str, str] = {}

    def commissioned(earliest: int) -> date:
        return date(earliest, 1, 1) + timedelta(days=rng.randrange(365 * 3))

    for region in REGIONS:
        code = region.code
        lines = lines_by_region.get(code, 0)
        core_site = f"{code}-CORE"
        vendor = VENDORS[rng.randrange(len(VENDORS))]
        mscs = [f"MSC-{code}-{n:02d}" for n in range(1, 2 + lines // LINES_PER_MSC)]
        for msc in mscs:
            elements.append(Element(msc, "msc", vendor, code, core_site, None, commissioned(2014)))
        smsc[code], pgw[code] = f"SMSC-{code}-01", f"PGW-{code}-01"
        sgsn = f"SGSN-{code}-01"
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
            site_id = f"{code}-S{site:04d}"
            msc = mscs[site % len(mscs)]
            enb = f"ENB-{code}-{site:04d}"
            elements.append(
                Element(enb, "enodeb", radio_vendor, code, site_id, msc, commissioned(2016))
            )
            region_cells.append(enb)
            if rng.random() < 0.5:
                gnb = f"GNB-{code}-{site:04d}"
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
