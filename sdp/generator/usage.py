"""Billing usage: each billable CDR rated by billing, as billing does it (defects included).

Usage lands per event day: one batch of the day's rated usage, and a second batch for usage
that sat in rating suspense and was rated late. Amounts also feed the bill runs: each account's
usage per service for each invoiced period, as the operator's convention says a bill run
takes it (profile `invoice_usage_by`): the period's events rated before the bill run's cut-off,
or the usage rated in the period whatever its event's day.
"""

from __future__ import annotations

import random
from array import array
from decimal import Decimal

from sdp.generator.clock import DAY, HOUR, BillRun
from sdp.generator.feeds import Batch, Landing, default_landed_at
from sdp.generator.incidents import to_units
from sdp.generator.line_defects import LineDefects
from sdp.generator.population import NO_BILLING
from sdp.generator.randomness import stream
from sdp.generator.rating import SERVICES, UNITS, rate
from sdp.generator.records import Row
from sdp.generator.traffic import SMS
from sdp.generator.usage_defects import LATE, REPLAY, UNBILLED, WRONG_PRICE, Rule
from sdp.generator.world import World

RATING_DELAY = (20, 900)  # seconds after the call or session ends
REPLAY_DELAY = (HOUR, 4 * HOUR)  # the replayed copy is rated again this much later
LATE_SPREAD = 0.25  # a late row waits delay_hours × (1 .. 1.25)


class UsageBiller:
    def __init__(self, world: World, landing: Landing, lines: LineDefects) -> None:
        self.world = world
        self.landing = landing
        self.ghost_usage = lines.ghost_usage
        self.runs = world.window.bill_runs()
        self._by_rating_time = world.profile.invoice_usage_by == "rated_at"
        self._stamp = world.window.stamper("billing")
        self._plans = world.market.plans
        numbering = world.market.numbering
        self._msisdn = lambda nsn: numbering.styled(numbering.rating, nsn)
        size = world.population.accounts * len(SERVICES)
        # period -> per account and service, ten-thousandths on that period's invoices
        self.invoiced = {run.period: array("q", bytes(8 * size)) for run in self.runs}
        self._day = 0
        self._seq = 0
        self._on = ""
        self._usage_ids = world.market.ids["usage"]
        self._out: Batch | None = None
        self._late: list[tuple[Row, Rule, int]] = []
        self._replays: list[tuple[Row, int]] = []
        self._rng: random.Random

    def open_day(self, day: int) -> None:
        self._day, self._seq = day, 0
        self._late, self._replays = [], []
        self._on = f"{self.world.window.date_of(day):%Y%m%d}"
        self._rng = stream(self.world.seed, "rating", self.world.window.date_of(day).isoformat())
        self._out = self.landing.open("billing", "usage", self._day)

    def _usage_id(self) -> str:
        self._seq += 1
        return self._usage_ids.format(date=self._on, n=self._seq)

    def _count(self, account: int, service: int, t: int, rated_at: int, amount: Decimal) -> None:
        for run in self.runs:
            if self._on_run(run, t, rated_at):
                self.invoiced[run.period][account * len(SERVICES) + service] += to_units(amount)

    def _on_run(self, run: BillRun, t: int, rated_at: int) -> bool:
        """Whether the bill run invoices a usage row, by the profile's invoice_usage_by."""
        begin, end = run.first_day * DAY, (run.last_day + 1) * DAY
        if self._by_rating_time:
            return begin <= rated_at < end
        return begin <= t < end and rated_at < run.cutoff

    def bill(
        self,
        cdr_id: str,
        line: int,
        plan: int,
        t: int,
        service: int,
        duration: int | None,
        quantity: Decimal | None,
        amount: Decimal | None,
        rule: Rule | None,
    ) -> None:
        """Rate one delivered CDR; `amount` is the rating rule's, `rule` the defect that took it."""
        pop = self.world.population
        if pop.line_flags[line] & NO_BILLING:
            tally = self.ghost_usage[line]
            tally.count("cdrs")
            if amount is not None:
                tally.add(amount)
            return
        if quantity is None or amount is None:
            return
        action = rule.action if rule is not None else None
        if rule is not None and action == UNBILLED:
            rule.tally.add(amount)
            return
        ends = t if service == SMS or duration is None else t + duration
        rated_at = ends + self._rng.randint(*RATING_DELAY)
        billed = amount
        if rule is not None and action == WRONG_PRICE:
            billed = rate(quantity, rule.price)
            rule.tally.count("rows_in_scope")
            if billed != amount:
                rule.tally.add(billed - amount)
        elif rule is not None and action == LATE:
            rated_at = t + round(rule.delay_hours * HOUR * (1 + LATE_SPREAD * self._rng.random()))
            rule.tally.add(amount)
        account = pop.line_account[line]
        row: Row = {
            "usage_id": self._usage_id(),
            "cdr_id": cdr_id,
            "account_id": pop.account_id(account),
            "msisdn": self._msisdn(pop.nsn(line)),
            "event_time": self._stamp(t),
            "service_type": SERVICES[service],
            "quantity": str(quantity),
            "unit": UNITS[SERVICES[service]],
            "plan_code": self._plans[plan].code,
            "rated_amount": str(billed),
            "rated_at": self._stamp(rated_at),
        }
        if rule is not None and action == LATE:
            self._late.append((row, rule, rated_at))
        else:
            assert self._out is not None
            self._out.write(row)
        self._count(account, service, t, rated_at, billed)
        if rule is not None and action == REPLAY:
            rerated = rated_at + self._rng.randint(*REPLAY_DELAY)
            self._replays.append((row, rerated))
            rule.tally.add(billed, rows=0)
            rule.tally.count("usage_rows")
            self._count(account, service, t, rerated, billed)

    def close_day(self) -> None:
        """Append the replayed copies (rated last), then land the late-rated usage apart, once
        its last row has been rated."""
        assert self._out is not None
        for row, rerated in self._replays:
            copy = {**row, "usage_id": self._usage_id(), "rated_at": self._stamp(rerated)}
            self._out.write(copy)
        self._out.close()
        if not self._late:
            return
        last_rated = max(rated_at for _, _, rated_at in self._late)
        landed = max(default_landed_at("billing", self._day), (last_rated // HOUR + 2) * HOUR)
        with self.landing.open("billing", "usage", self._day, seq=2, landed_at=landed) as out:
            for row, rule, _ in self._late:
                out.write(row)
                rule.batch_ids.add(out.batch_id)
