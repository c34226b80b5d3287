"""Defects in which lines exist where: service on the network that billing (and maybe CRM)
does not know, and lines on which OSS, CRM and billing disagree.

Impact counts fees by calendar month: a line owes its plan's monthly_fee for every month the
window touches in which it is active on at least one window day (DESIGN: no proration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sdp.generator.clock import DAY
from sdp.generator.incidents import Incident, Tally, money, to_units
from sdp.generator.population import (
    CRM_SUSPENDED,
    NO_ACCOUNT,
    NO_BILLING,
    NO_CRM,
    OFF_NETWORK,
)
from sdp.generator.randomness import stream
from sdp.generator.scenario import Defect, SubscriptionMismatch, UnbilledProvisioning
from sdp.generator.world import World


@dataclass
class _Ghosts:
    spec: UnbilledProvisioning
    lines: list[int]
    usage: Tally = field(default_factory=Tally)


@dataclass
class _Mismatch:
    spec: SubscriptionMismatch
    plan: list[int]
    status: list[int]
    off_network: list[int]


class LineDefects:
    def __init__(
        self,
        world: World,
        unbilled: list[UnbilledProvisioning],
        mismatches: list[SubscriptionMismatch],
        fail: Callable[[Defect, str], Exception],
    ) -> None:
        self.world = world
        pop, market = world.population, world.market
        plans, plan_index, region_index = market.plans, market.plan_index, market.region_index
        self.ghosts: list[_Ghosts] = []
        self.ghost_usage: dict[int, Tally] = {}  # line -> its defect's usage tally
        for spec in unbilled:
            rng = stream(world.seed, "defect", spec.id)
            region = region_index[spec.region]
            owners = [-1] * spec.lines
            if spec.missing_from == "billing":
                owners = pop.pick_customers(rng, spec.lines, region)
                if len(owners) < spec.lines:
                    raise fail(spec, f"only {len(owners)} customers in {spec.region} are free")
            flags = NO_BILLING | (NO_CRM if spec.missing_from == "crm_and_billing" else 0)
            ghosts = _Ghosts(spec, [])
            for owner in owners:
                start = spec.day - 1 if spec.day else -rng.randint(20, 400)
                line = pop.add_line(
                    rng, owner, NO_ACCOUNT, region, plan_index[spec.plan_code], start, flags
                )
                ghosts.lines.append(line)
                self.ghost_usage[line] = ghosts.usage
            self.ghosts.append(ghosts)
        self.mismatches: list[_Mismatch] = []
        for mismatch in mismatches:
            rng = stream(world.seed, "defect", mismatch.id)
            region = region_index[mismatch.region]
            upgradable = {i for i, plan in enumerate(plans) if market.dearer_plan(plan.code)}
            found = _Mismatch(
                mismatch,
                pop.pick_lines(rng, mismatch.plan_mismatch, region, upgradable),
                pop.pick_lines(rng, mismatch.status_mismatch, region),
                pop.pick_lines(rng, mismatch.billed_not_on_network, region),
            )
            wanted = (
                mismatch.plan_mismatch + mismatch.status_mismatch + mismatch.billed_not_on_network
            )
            if len(found.plan) + len(found.status) + len(found.off_network) < wanted:
                raise fail(mismatch, f"not enough unchanged lines in {mismatch.region}")
            for line in found.plan:
                dearer = market.dearer_plan(plans[pop.line_plan[line]].code)
                assert dearer is not None  # picked among upgradable plans only
                pop.oss_plan[line] = plan_index[dearer]
            for line in found.status:
                pop.line_flags[line] |= CRM_SUSPENDED
            for line in found.off_network:
                pop.line_flags[line] |= OFF_NETWORK
            self.mismatches.append(found)

    def _fees(self, line: int, plan: int) -> int:
        """Fees a line owes on `plan` for the months of the window it is active in."""
        pop, window = self.world.population, self.world.window
        months = sum(pop.active_between(line, first, last) for first, last in window.months())
        return to_units(self.world.market.plans[plan].monthly_fee) * months

    def _mismatch(
        self,
        spec: SubscriptionMismatch,
        variant: str,
        where: tuple[str, str],
        lines: list[int],
        impact: int,
        basis: str,
        **detail: object,
    ) -> Incident:
        pop, window = self.world.population, self.world.window
        e164 = self.world.market.numbering.e164
        return Incident(
            id=f"{spec.id}.{variant}",
            kind=spec.kind,
            source=where[0],
            entity=where[1],
            start=window.at(0),
            end=window.at(window.seconds),
            rows_affected=len(lines),
            revenue_impact=impact,
            impact_basis=basis,
            region=spec.region,
            detail={
                "variant": variant,
                "msisdns": sorted(e164(pop.nsn(line)) for line in lines),
                **detail,
            },
        )

    def incidents(self) -> dict[str, list[Incident]]:
        pop, window, market = self.world.population, self.world.window, self.world.market
        e164 = market.numbering.e164
        found: dict[str, list[Incident]] = {}
        for ghosts in self.ghosts:
            spec = ghosts.spec
            plan = market.plan_index[spec.plan_code]
            recurring = sum(self._fees(line, plan) for line in ghosts.lines)
            found[spec.id] = [
                Incident(
                    id=spec.id,
                    kind=spec.kind,
                    source="oss",
                    entity="provisioning",
                    start=window.at(((spec.day or 1) - 1) * DAY),
                    end=window.at(window.seconds),
                    rows_affected=len(ghosts.lines),
                    revenue_impact=recurring + ghosts.usage.impact,
                    impact_basis=(
                        "monthly_fee of each line for every month of the window it is active in, "
                        "plus the rating-rule value of its CDRs (none of it billed)"
                    ),
                    region=spec.region,
                    plan_code=spec.plan_code,
                    detail={
                        "missing_from": spec.missing_from,
                        "msisdns": sorted(e164(pop.nsn(line)) for line in ghosts.lines),
                        "recurring_amount": money(recurring),
                        "cdrs": ghosts.usage.counts.get("cdrs", 0),
                        "billable_cdrs": ghosts.usage.rows,
                        "usage_amount": money(ghosts.usage.impact),
                    },
                )
            ]
        for mismatch in self.mismatches:
            what = mismatch.spec
            incidents = []
            if mismatch.plan:
                impact = sum(
                    self._fees(line, pop.oss_plan[line]) - self._fees(line, pop.line_plan[line])
                    for line in mismatch.plan
                )
                plans = {
                    e164(pop.nsn(line)): {
                        "billed": market.plans[pop.line_plan[line]].code,
                        "provisioned": market.plans[pop.oss_plan[line]].code,
                    }
                    for line in mismatch.plan
                }
                incidents.append(
                    self._mismatch(
                        what,
                        "plan_mismatch",
                        ("oss", "provisioning"),
                        mismatch.plan,
                        impact,
                        "monthly_fee of the provisioned plan minus that of the billed plan, for "
                        "every month of the window (service given beyond what is billed)",
                        plans=plans,
                    )
                )
            if mismatch.status:
                incidents.append(
                    self._mismatch(
                        what,
                        "status_mismatch",
                        ("crm", "subscriptions"),
                        mismatch.status,
                        0,
                        "none: usage and fee are still billed; CRM says suspended while the "
                        "network has the line active",
                    )
                )
            if mismatch.off_network:
                impact = sum(self._fees(line, pop.line_plan[line]) for line in mismatch.off_network)
                incidents.append(
                    self._mismatch(
                        what,
                        "billed_not_on_network",
                        ("billing", "accounts"),
                        mismatch.off_network,
                        impact,
                        "monthly_fee billed for every month of the window for lines the network "
                        "never provisioned (over-billing, a refund risk)",
                    )
                )
            found[what.id] = incidents
        return found
