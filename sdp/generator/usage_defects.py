"""Defects that act on single CDRs between the network and billing.

One CDR carries at most one of them, decided in a fixed order (drop, unbilled, late, wrong
tariff, replay: the first whose scope matches wins), so each incident's rows and money are its
own and the controls can be scored per kind. Draws for the `fraction` parameters come from a
stream of their own, so a defect never changes the traffic itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from sdp.generator.clock import DAY, Window
from sdp.generator.incidents import Incident, Tally
from sdp.generator.market import Market
from sdp.generator.rating import SERVICES
from sdp.generator.scenario import (
    CdrDrop,
    Defect,
    LateBilling,
    MediationReplay,
    UnbilledUsage,
    UsageSelector,
    WrongTariff,
)
from sdp.generator.topology import CDR_ELEMENT_SERVICE, Topology

NORMAL, DROP, UNBILLED, LATE, WRONG_PRICE, REPLAY = range(6)
ANY = -1


@dataclass
class Rule:
    action: int
    spec: Defect
    begin: int  # seconds from the window start, [begin, end)
    end: int
    element: str | None
    plan: int  # ANY or a plan index
    service: int  # ANY or a SERVICES index
    fraction: float = 1.0
    price: Decimal = Decimal(0)  # wrong_tariff: what billing charges
    delay_hours: float = 0.0  # late_billing: the shortest wait
    tally: Tally = field(default_factory=Tally)
    batch_ids: set[str] = field(default_factory=set)

    def covers(self, day: int) -> bool:
        return self.begin < (day + 1) * DAY and self.end > day * DAY


def classify(
    rules: list[Rule],
    plan: int,
    t: int,
    service: int,
    billable: bool,
    billed_line: bool,
    rng: random.Random,
) -> Rule | None:
    """The rule that takes this CDR, if any (`rules` are one element-day's, in priority order).

    Only a drop or a replay touches a CDR billing would not charge for anyway, and only a drop
    touches the CDRs of a line billing does not carry (those belong to unbilled_provisioning).
    """
    for rule in rules:
        if not (rule.begin <= t < rule.end):
            continue
        if not billed_line and rule.action != DROP:
            continue
        if rule.plan != ANY and rule.plan != plan:
            continue
        if rule.service != ANY and rule.service != service:
            continue
        if rule.action in (UNBILLED, LATE, WRONG_PRICE) and not billable:
            continue
        if rule.action in (LATE, REPLAY) and rule.fraction < 1 and rng.random() >= rule.fraction:
            continue
        return rule
    return None


class CdrDefects:
    def __init__(
        self,
        window: Window,
        topology: Topology,
        market: Market,
        specs: list[Defect],
    ) -> None:
        """`specs` are checked: their elements are mediated ones."""
        self.window = window
        self.topology = topology
        self.plans = market.plans
        self.plan_index = market.plan_index
        rules = [self._rule(spec) for spec in specs]
        order = (DROP, UNBILLED, LATE, WRONG_PRICE, REPLAY)
        self.rules = sorted(rules, key=lambda r: order.index(r.action))

    def _rule(self, spec: Defect) -> Rule:
        end_of_window = self.window.seconds
        if isinstance(spec, WrongTariff):
            return Rule(
                WRONG_PRICE,
                spec,
                (spec.day - 1) * DAY,
                end_of_window,
                None,
                self.plan_index[spec.plan_code],
                SERVICES.index(spec.service_type),
                price=spec.unit_price,
            )
        assert isinstance(spec, CdrDrop | MediationReplay | UsageSelector)
        begin, end = spec.bounds()
        end = min(end, end_of_window)
        if isinstance(spec, CdrDrop | MediationReplay):
            element = self.topology.by_id[spec.network_element_id]
            service = SERVICES.index(CDR_ELEMENT_SERVICE[element.type])
            action = DROP if isinstance(spec, CdrDrop) else REPLAY
            fraction = spec.fraction if isinstance(spec, MediationReplay) else 1.0
            return Rule(action, spec, begin, end, element.id, ANY, service, fraction)
        plan = ANY if spec.plan_code is None else self.plan_index[spec.plan_code]
        service = ANY if spec.service_type is None else SERVICES.index(spec.service_type)
        if service == ANY and spec.network_element_id is not None:
            element_type = self.topology.by_id[spec.network_element_id].type
            service = SERVICES.index(CDR_ELEMENT_SERVICE[element_type])
        if isinstance(spec, LateBilling):
            return Rule(
                LATE,
                spec,
                begin,
                end,
                spec.network_element_id,
                plan,
                service,
                spec.fraction,
                delay_hours=spec.delay_hours,
            )
        assert isinstance(spec, UnbilledUsage)
        return Rule(UNBILLED, spec, begin, end, spec.network_element_id, plan, service)

    def for_element(self, element: str, day: int) -> list[Rule]:
        return [rule for rule in self.rules if rule.element in (None, element) and rule.covers(day)]

    def drops(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.action == DROP]

    def incidents(self, alarm_ids: dict[str, str]) -> dict[str, Incident]:
        found = {}
        for rule in self.rules:
            spec = rule.spec
            counts: dict[str, object] = dict(sorted(rule.tally.counts.items()))
            if rule.action == DROP:
                where = ("cdr", "records")
                basis = "rating-rule value of the dropped CDRs (never billed)"
                detail = {"alarm_id": alarm_ids[spec.id], **counts}
            elif rule.action == REPLAY:
                where = ("cdr", "records")
                basis = "amount billed a second time for the replayed CDRs"
                detail = {"fraction": rule.fraction, "replay_batch_ids": sorted(rule.batch_ids)}
            elif rule.action == UNBILLED:
                where = ("billing", "usage")
                basis = "rating-rule value of the billable CDRs that have no usage row"
                detail = {}
            elif rule.action == LATE:
                where = ("billing", "usage")
                basis = "amount rated more than 24 h after the event (deferred, not lost)"
                detail = {
                    "delay_hours": rule.delay_hours,
                    "fraction": rule.fraction,
                    "late_batch_ids": sorted(rule.batch_ids),
                }
            else:
                where = ("billing", "usage")
                basis = (
                    "billed minus rating-rule amount over the mis-rated usage rows "
                    "(positive: over-billed)"
                )
                detail = {"wrong_unit_price": f"{rule.price:.4f}"}
            element = self.topology.by_id[rule.element] if rule.element else None
            found[spec.id] = Incident(
                id=spec.id,
                kind=spec.kind,
                source=where[0],
                entity=where[1],
                start=self.window.at(rule.begin),
                end=self.window.at(rule.end),
                rows_affected=rule.tally.rows,
                revenue_impact=rule.tally.impact,
                impact_basis=basis,
                network_element_id=rule.element,
                region=element.region if element else None,
                plan_code=self.plans[rule.plan].code if rule.plan != ANY else None,
                service_type=SERVICES[rule.service] if rule.service != ANY else None,
                detail={**detail, **counts},
            )
        return found
