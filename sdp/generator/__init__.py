"""The scenario generator: a synthetic operator's feeds, with injected defects and the truth.

`generate` builds a world (subscriber base, network, tariffs) from a scenario's seed and sizes,
then writes it day by day through the landing contract: reference snapshots and change batches,
CDRs per mediated element and the billing usage rated from them, alarms, and invoices with their
GL postings on bill-run days. CDRs are generated one region-day at a time and written per
element, so memory stays bounded by the largest region's daily traffic, whatever the window
(about 230 MiB peak for 100,000 customers over 7 days, 14 million CDRs). The injected
incidents and the true customer duplicate pairs go to `ground_truth.json` at the landing root.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sdp.contracts import load_contract
from sdp.generator.alarms import write_alarms
from sdp.generator.clock import Window
from sdp.generator.defects import Defects
from sdp.generator.feeds import Landing
from sdp.generator.incidents import Incident, write_ground_truth
from sdp.generator.invoicing import write_bill_run
from sdp.generator.mediation import deliver
from sdp.generator.population import build_population
from sdp.generator.reference import write_reference
from sdp.generator.scenario import ScenarioError, check_sizes, load_scenario
from sdp.generator.tariffs import build_tariffs
from sdp.generator.topology import build_topology
from sdp.generator.traffic import region_day
from sdp.generator.usage import UsageBiller
from sdp.generator.world import World

__all__ = ["GenerationResult", "ScenarioError", "generate"]


@dataclass(frozen=True)
class GenerationResult:
    landing: Path
    ground_truth: Path
    rows: dict[str, int]  # `<source>_<entity>` -> rows written
    batches: int


def generate(
    scenario: Path,
    landing: Path,
    *,
    seed: int | None = None,
    customers: int | None = None,
    days: int | None = None,
    traffic: float | None = None,
    start: date | None = None,
    log: Callable[[str], None] | None = None,
) -> GenerationResult:
    """Write the scenario's feeds under `landing`; flags override the scenario's values."""
    say = log or (lambda _: None)
    spec = load_scenario(scenario)
    spec = replace(
        spec,
        seed=spec.seed if seed is None else seed,
        customers=spec.customers if customers is None else customers,
        days=spec.days if days is None else days,
        traffic=spec.traffic if traffic is None else traffic,
        start=spec.start if start is None else start,
    )
    check_sizes(spec)
    market, profile = spec.market, spec.profile
    window = Window(
        spec.start,
        spec.days,
        zone=profile.zone,
        styles=market.timestamps,
        bill_run_cutoff_hour=profile.bill_run_cutoff_hour,
    )
    population = build_population(spec.seed, window, market, spec.customers)
    lines_by_region = {
        region.code: count
        for region, count in zip(
            market.regions, (len(r) for r in population.by_region()), strict=True
        )
    }
    world = World(
        seed=spec.seed,
        market=market,
        profile=profile,
        window=window,
        traffic=spec.traffic,
        population=population,
        topology=build_topology(spec.seed, market, lines_by_region),
        tariffs=build_tariffs(window, market, profile.currency),
    )
    defects = Defects(world, spec, say)
    landing.mkdir(parents=True, exist_ok=True)
    out = Landing(landing, window, load_contract(), defects.batches, market.layouts)
    biller = UsageBiller(world, out, defects.lines)
    region_lines = population.by_region()
    from_bill_runs: dict[str, Incident] = {}
    for day in range(window.days):
        write_reference(world, out, defects.customers, day)
        biller.open_day(day)
        for region, lines in enumerate(region_lines):
            for element_id, cdrs in region_day(world, day, region, lines).items():
                deliver(
                    world, out, biller, defects.cdrs, day, world.topology.by_id[element_id], cdrs
                )
        biller.close_day()
        write_alarms(world, out, defects.alarms, day)
        for run in window.bill_runs():
            if run.day == day:
                from_bill_runs |= write_bill_run(
                    world, out, run, biller.invoiced[run.period], defects.gl
                )
        say(
            f"{window.date_of(day)}: {out.rows['cdr_records']:,} CDRs so far, {out.batches} batches"
        )
    truth = write_ground_truth(
        landing,
        scenario=spec.name,
        seed=spec.seed,
        operator={
            "market": market.name,
            "country": profile.country,
            "currency": profile.currency,
            "timezone": profile.timezone,
            "invoice_usage_by": profile.invoice_usage_by,
        },
        sizes={
            "customers": spec.customers,
            "days": spec.days,
            "traffic": spec.traffic,
            "lines": population.lines,
            "accounts": population.accounts,
        },
        window=(window.at(0), window.at(window.seconds)),
        incidents=defects.incidents(from_bill_runs),
        skipped=defects.skipped,
        crm_crm=[
            (population.customer_id(a), population.customer_id(b))
            for a, b in (sorted(pair) for pair in defects.customers.pairs())
        ],
        crm_billing=crm_billing_pairs(world),
    )
    return GenerationResult(landing, truth, dict(sorted(out.rows.items())), out.batches)


def crm_billing_pairs(world: World) -> list[tuple[str, str]]:
    """Every (CRM customer record, billing account) of the same real person: the account's
    owner and any duplicate CRM record of that owner."""
    pop = world.population
    records: dict[int, list[int]] = {}
    for dup, original in pop.duplicate_of.items():
        records.setdefault(original, []).append(dup)
    return [
        (pop.customer_id(record), pop.account_id(account))
        for account in range(pop.accounts)
        for record in (pop.acct_customer[account], *records.get(pop.acct_customer[account], ()))
    ]
