"""The generated world every feed renders from, built once before the first batch is written."""

from __future__ import annotations

from dataclasses import dataclass

from sdp.generator.clock import Window
from sdp.generator.market import Market
from sdp.generator.population import Population
from sdp.generator.tariffs import TariffBook
from sdp.generator.topology import Topology
from sdp.operator import OperatorProfile


@dataclass(frozen=True)
class World:
    seed: int
    market: Market
    # the operator's: currency of tariffs, invoices and GL, zone, billing conventions
    profile: OperatorProfile
    window: Window
    traffic: float  # mean CDRs per active line and day
    population: Population
    topology: Topology
    tariffs: TariffBook
