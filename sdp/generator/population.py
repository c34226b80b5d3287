"""Customers, billing accounts and lines: the subscriber base and how it changes in the window.

State lives in arrays of machine integers (one slot per customer, account or line): a large run
keeps a few hundred thousand lines for the whole generation. Names and addresses are not stored;
they are rendered again from a per-customer stream whenever a row is written.

Days are window day indexes (0 = the first day; negative = before the window). A line is on the
network from the day after its `start` until the day before its `end` or `suspend` (changes take
effect at the start of their day), and billing owes its plan's fee for every month in which it
is active on at least one day of [start, min(end, suspend)).
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass, field

from sdp.generator.clock import Window
from sdp.generator.identity import Person, person
from sdp.generator.market import SEGMENTS, Market
from sdp.generator.randomness import cumulative, pick, poisson, stream

NEVER = 1 << 30
NO_ACCOUNT = -1
BUSINESS = SEGMENTS.index("business")
# line flags, set by the line defects
NO_BILLING = 1  # on the network, on no billing account
NO_CRM = 2  # ... and without a CRM subscription
OFF_NETWORK = 4  # in CRM and billed, never provisioned
CRM_SUSPENDED = 8  # CRM says suspended; the network and billing carry on
# organic change per day, as a share of the base
NEW_CUSTOMER_RATE = 0.0008
TERMINATION_RATE = 0.0004
SUSPENSION_RATE = 0.0002
UPDATE_RATE = 0.0004
PAST_TERMINATION_SHARE = 0.05

_CONSUMER_LINES = cumulative([78, 17, 5])


@dataclass
class DayChanges:
    """Organic changes that land in one day's change batches."""

    new_customers: list[int] = field(default_factory=list)
    terminations: list[int] = field(default_factory=list)
    suspensions: list[int] = field(default_factory=list)
    moves: list[int] = field(default_factory=list)
    email_changes: list[int] = field(default_factory=list)


class Population:
    def __init__(self, seed: int, window: Window, market: Market) -> None:
        self.seed = seed
        self.market = market
        self._region_weights = cumulative([r.weight for r in market.regions])
        self._plans = [market.segment_plans(segment) for segment in SEGMENTS]
        self._mobile = market.numbering.mobile_first, market.numbering.mobile_size
        numbering = stream(seed, "numbering")
        self._msisdn_offset = numbering.randrange(self._mobile[1])
        self._imsi_offset = numbering.randrange(10**10)
        self._account_offset = numbering.randrange(9_000_000)
        self.cust_segment = bytearray()
        self.cust_region = bytearray()
        self.cust_created = array("i")
        self.cust_first_line = array("i")
        self.cust_first_account = array("i")
        self.cust_accounts = bytearray()
        self.acct_customer = array("i")
        self.acct_opened = array("i")
        self.acct_first_line = array("i")
        self.acct_lines = array("i")
        self.line_customer = array("i")
        self.line_account = array("i")
        self.line_region = bytearray()
        self.line_plan = bytearray()
        self.line_start = array("i")
        self.line_end = array("i")
        self.line_suspend = array("i")
        self.line_activity = array("f")
        self.line_cell = array("H")
        self.line_flags = bytearray()
        self.oss_plan: dict[int, int] = {}  # line -> plan the network has, when it differs
        self.duplicate_of: dict[int, int] = {}  # duplicate CRM customer -> the original
        self.moved_on: dict[int, int] = {}  # customer -> day CRM and billing get a new address
        self.email_changed_on: dict[int, int] = {}
        self.changes = [DayChanges() for _ in range(window.days)]
        self.claimed_lines: set[int] = set()
        self.claimed_customers: set[int] = set()
        self.base_customers = 0

    # -- identifiers ------------------------------------------------------------------------
    def customer_id(self, customer: int) -> str:
        return self.market.ids["customer"].format(n=customer + 1)

    def account_id(self, account: int) -> str:
        n = 1_000_000 + (account * 2_750_159 + self._account_offset) % 9_000_000
        return self.market.ids["account"].format(n=n)

    def subscription_id(self, line: int) -> str:
        return self.market.ids["subscription"].format(n=line + 1)

    def nsn(self, line: int) -> int:
        """The line's national significant number: a permutation of the index over the market's
        mobile range (its size must be prime to the multiplier), so numbers look scattered yet
        never collide."""
        first, size = self._mobile
        return first + (line * 179_424_673 + self._msisdn_offset) % size

    def imsi(self, line: int) -> str:
        msin = (line * 4_294_967_291 + self._imsi_offset) % 10**10
        return f"{self.market.imsi_prefix}{msin:010d}"

    def person(self, customer: int) -> Person:
        original = self.duplicate_of.get(customer, customer)
        return person(
            self.seed,
            original,
            self.market,
            self.market.regions[self.cust_region[original]],
            self.cust_segment[original] == BUSINESS,
        )

    @property
    def customers(self) -> int:
        return len(self.cust_segment)

    @property
    def accounts(self) -> int:
        return len(self.acct_customer)

    @property
    def lines(self) -> int:
        return len(self.line_plan)

    # -- activity -----------------------------------------------------------------------------
    def active_between(self, line: int, first: int, last: int) -> bool:
        """Active on at least one day of [first, last]: what a month's fee depends on."""
        return (
            self.line_start[line] <= last
            and min(self.line_end[line], self.line_suspend[line]) > first
        )

    def account_lines(self, account: int) -> range:
        first = self.acct_first_line[account]
        return range(first, first + self.acct_lines[account])

    def billed_on(self, account: int, day: int) -> list[int]:
        """Lines billing lists on the account on `day` (terminated lines leave it)."""
        return [
            line
            for line in self.account_lines(account)
            if self.line_start[line] <= day < self.line_end[line]
        ]

    def by_region(self) -> list[array]:
        regions = [array("i") for _ in self.market.regions]
        for line in range(self.lines):
            regions[self.line_region[line]].append(line)
        return regions

    # -- building -----------------------------------------------------------------------------
    def add_customer(self, segment: int, region: int, created: int) -> int:
        self.cust_segment.append(segment)
        self.cust_region.append(region)
        self.cust_created.append(created)
        self.cust_first_line.append(-1)
        self.cust_first_account.append(self.accounts)
        self.cust_accounts.append(0)
        return self.customers - 1

    def add_account(self, customer: int, opened: int) -> int:
        self.acct_customer.append(customer)
        self.acct_opened.append(opened)
        self.acct_first_line.append(self.lines)
        self.acct_lines.append(0)
        self.cust_accounts[customer] += 1
        return self.accounts - 1

    def add_line(
        self,
        rng: random.Random,
        customer: int,
        account: int,
        region: int,
        plan: int,
        start: int,
        flags: int = 0,
    ) -> int:
        line = self.lines
        self.line_customer.append(customer)
        self.line_account.append(account)
        self.line_region.append(region)
        self.line_plan.append(plan)
        self.line_start.append(start)
        self.line_end.append(NEVER)
        self.line_suspend.append(NEVER)
        self.line_activity.append(min(6.0, rng.lognormvariate(-0.18, 0.6)))
        self.line_cell.append(rng.randrange(1 << 16))
        self.line_flags.append(flags)
        if account != NO_ACCOUNT:
            self.acct_lines[account] += 1
        if customer >= 0 and self.cust_first_line[customer] < 0:
            self.cust_first_line[customer] = line
        return line

    def draw_customer(self, rng: random.Random, created: int) -> int:
        """A customer of a random segment and region with their accounts and lines; before the
        window (`created` < 0) some lines have since been terminated."""
        business = rng.random() < 0.15
        region = pick(rng, self._region_weights)
        customer = self.add_customer(int(business), region, created)
        in_window = created >= 0
        if business:
            count = rng.randint(2, 3) if in_window else rng.randint(2, 7)
        else:
            count = 1 if in_window else pick(rng, _CONSUMER_LINES) + 1
        split = (count + 1) // 2 if business and count >= 4 else count
        account = self.add_account(customer, created)
        for n in range(count):
            if n == split:
                account = self.add_account(customer, created + rng.randrange(-created // 2 + 1))
            plans, weights = self._plans[int(business)]
            plan = plans[pick(rng, weights)]
            opened = self.acct_opened[account]
            start = opened if n in (0, split) or in_window else rng.randint(opened, -1)
            line = self.add_line(rng, customer, account, region, plan, start)
            if not in_window and rng.random() < PAST_TERMINATION_SHARE and start + 60 <= -40:
                self.line_end[line] = rng.randint(start + 60, -40)
        return customer

    def pick_lines(
        self,
        rng: random.Random,
        count: int,
        region: int | None = None,
        plans: set[int] | None = None,
    ) -> list[int]:
        """Distinct lines that were active before the window and nothing else changes: targets
        for organic changes and defects alike, never shared between two of them."""
        candidates = (
            [
                line
                for line in range(self.lines)
                if self.line_start[line] < 0
                and self.line_end[line] == NEVER
                and self.line_suspend[line] == NEVER
                and self.line_flags[line] == 0
                and self.line_account[line] != NO_ACCOUNT
                and line not in self.claimed_lines
                and (region is None or self.line_region[line] == region)
                and (plans is None or self.line_plan[line] in plans)
            ]
            if count
            else []
        )
        chosen = rng.sample(candidates, min(count, len(candidates)))
        self.claimed_lines.update(chosen)
        return chosen

    def pick_customers(
        self, rng: random.Random, count: int, region: int | None = None
    ) -> list[int]:
        """Distinct customers of the initial base with a line still on an account, unclaimed."""
        candidates = (
            [
                customer
                for customer in range(self.base_customers)
                if customer not in self.claimed_customers
                and (region is None or self.cust_region[customer] == region)
                and any(
                    self.line_end[line] == NEVER
                    for account in range(
                        self.cust_first_account[customer],
                        self.cust_first_account[customer] + self.cust_accounts[customer],
                    )
                    for line in self.account_lines(account)
                )
            ]
            if count
            else []
        )
        chosen = rng.sample(candidates, min(count, len(candidates)))
        self.claimed_customers.update(chosen)
        return chosen


def build_population(seed: int, window: Window, market: Market, customers: int) -> Population:
    """The base as it stands the day before the window, then each day's organic changes."""
    pop = Population(seed, window, market)
    rng = stream(seed, "population")
    for _ in range(customers):
        pop.draw_customer(rng, created=-rng.randrange(30, 3650))
    pop.base_customers = pop.customers
    base_lines = pop.lines
    for day in range(1, window.days):
        changes = pop.changes[day]
        for _ in range(poisson(rng, customers * NEW_CUSTOMER_RATE)):
            changes.new_customers.append(pop.draw_customer(rng, created=day))
        # no change on a month's first day, so that "active in the month" reads the same from
        # every system's dates whichever way they round a boundary
        if window.date_of(day).day != 1:
            changes.terminations = pop.pick_lines(rng, poisson(rng, base_lines * TERMINATION_RATE))
            for line in changes.terminations:
                pop.line_end[line] = day
            changes.suspensions = pop.pick_lines(rng, poisson(rng, base_lines * SUSPENSION_RATE))
            for line in changes.suspensions:
                pop.line_suspend[line] = day
        changes.moves = pop.pick_customers(rng, poisson(rng, customers * UPDATE_RATE))
        changes.email_changes = pop.pick_customers(rng, poisson(rng, customers * UPDATE_RATE))
        pop.moved_on.update(dict.fromkeys(changes.moves, day))
        pop.email_changed_on.update(dict.fromkeys(changes.email_changes, day))
    return pop
