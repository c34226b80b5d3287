"""The scenario's defects, checked against the world and turned into the objects that inject
them, grouped by where they act (lines, customers, CDRs, batches, GL).

Checks that need the world (element ids, which batches exist) happen here, before anything is
written. A defect that starts after a window shortened by `--days` is skipped and reported, so
the same scenario file serves quick runs.
"""

from __future__ import annotations

from collections.abc import Callable

from sdp.generator.alarms import Alarm, plan_alarms
from sdp.generator.batch_defects import BatchDefects
from sdp.generator.customer_defects import CustomerDefects
from sdp.generator.incidents import Incident
from sdp.generator.line_defects import LineDefects
from sdp.generator.scenario import (
    BadContactData,
    CdrDrop,
    Defect,
    DuplicateCustomers,
    GlMismatch,
    LateBatch,
    LateBilling,
    MediationReplay,
    Scenario,
    SchemaDrift,
    SubscriptionMismatch,
    UnbilledProvisioning,
    UnbilledUsage,
    WrongTariff,
)
from sdp.generator.usage_defects import CdrDefects
from sdp.generator.world import World

SNAPSHOT_ONLY = {("erp", "tariff_plans"), ("oss", "network_elements")}
BILL_RUN_ONLY = {("billing", "invoices"), ("erp", "gl_revenue")}


class Defects:
    def __init__(self, world: World, scenario: Scenario, log: Callable[[str], None]) -> None:
        self.world = world
        self.order = [d.id for d in scenario.defects]
        self.skipped: list[dict[str, str]] = []
        fail = scenario.error
        runs = world.window.bill_runs()
        active: list[Defect] = []
        for defect in scenario.defects:
            reason = self._skip_reason(defect, [run.day for run in runs], fail)
            if reason:
                self.skipped.append({"id": defect.id, "kind": defect.kind, "reason": reason})
                log(f"defect {defect.id} ({defect.kind}) skipped: {reason}")
            else:
                active.append(defect)

        def of(kind: type[Defect]) -> list:
            return [d for d in active if isinstance(d, kind)]

        mediated = [e.id for e in world.topology.cdr_elements]
        for defect in active:
            element_id = getattr(defect, "network_element_id", None)
            if element_id is not None and element_id not in mediated:
                known = ", ".join(mediated)
                raise fail(defect, f"{element_id!r} is not a mediated element (one of {known})")
        self.lines = LineDefects(world, of(UnbilledProvisioning), of(SubscriptionMismatch), fail)
        self.customers = CustomerDefects(world, of(DuplicateCustomers), of(BadContactData), fail)
        cdr_kinds = (CdrDrop, WrongTariff, MediationReplay, UnbilledUsage, LateBilling)
        self.cdrs = CdrDefects(
            world.window,
            world.topology,
            world.market,
            [d for d in active if isinstance(d, cdr_kinds)],
        )
        self.batches = BatchDefects(of(LateBatch), of(SchemaDrift))
        self.gl = [(spec, spec.period or runs[0].period) for spec in of(GlMismatch)]
        for spec, period in self.gl:
            if period not in {run.period for run in runs}:
                invoiced = ", ".join(run.period for run in runs)
                raise fail(spec, f"period {period} is not invoiced in the window ({invoiced})")
        self.alarms: list[Alarm]
        self.alarms, self.drop_alarms = plan_alarms(world, self.cdrs.drops())

    def _skip_reason(
        self, defect: Defect, run_days: list[int], fail: Callable[[Defect, str], Exception]
    ) -> str | None:
        days = self.world.window.days
        if defect.first_day() > days:
            return f"day {defect.first_day()} is after the {days}-day window"
        if isinstance(defect, GlMismatch) and not run_days:
            return "no bill run in the window (it needs a first of the month after its start)"
        if isinstance(defect, LateBatch | SchemaDrift):
            feed = (defect.source, defect.entity)
            if feed in SNAPSHOT_ONLY and defect.day != 1:
                raise fail(defect, f"{defect.source}.{defect.entity} lands only on day 1")
            if feed in BILL_RUN_ONLY:
                if isinstance(defect, LateBatch) and defect.day - 1 not in run_days:
                    return f"no bill run on day {defect.day} in the window"
                if all(day < defect.day - 1 for day in run_days):
                    return f"no bill run on or after day {defect.day} in the window"
        return None

    def incidents(self, found: dict[str, Incident]) -> list[Incident]:
        """All incidents in the scenario's order (`found` holds those the bill runs made)."""
        by_id: dict[str, list[Incident]] = dict(self.lines.incidents())
        for incident in [
            *self.customers.incidents().values(),
            *self.cdrs.incidents(self.drop_alarms).values(),
            *self.batches.incidents(self.world.window, self.world.topology).values(),
            *found.values(),
        ]:
            by_id[incident.id] = [incident]
        return [incident for defect_id in self.order for incident in by_id.get(defect_id, [])]
