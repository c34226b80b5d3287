"""Defects in CRM's customer records: customers held twice, and a burst of bad contact data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sdp.generator.clock import DAY, HOUR
from sdp.generator.identity import human_msisdn, invalid_email, malformed_phone, new_email, typo
from sdp.generator.incidents import Incident
from sdp.generator.randomness import mix, stream
from sdp.generator.records import Row, customer_created, customer_row, person_on
from sdp.generator.scenario import BadContactData, Defect, DuplicateCustomers
from sdp.generator.world import World

# the bad-contact burst: a faulty import job at night
BURST_START = 2 * HOUR
BURST_SECONDS = 30 * 60


@dataclass
class _Duplicates:
    spec: DuplicateCustomers
    pairs: list[tuple[int, int]] = field(default_factory=list)  # original, duplicate


@dataclass
class _BadContacts:
    spec: BadContactData
    emails: list[int]
    phones: list[int]


class CustomerDefects:
    def __init__(
        self,
        world: World,
        duplicates: list[DuplicateCustomers],
        bad_contacts: list[BadContactData],
        fail: Callable[[Defect, str], Exception],
    ) -> None:
        self.world = world
        pop = world.population
        self.duplicates: list[_Duplicates] = []
        for spec in duplicates:
            rng = stream(world.seed, "defect", spec.id)
            originals = pop.pick_customers(rng, spec.count)
            if len(originals) < spec.count:
                raise fail(spec, f"only {len(originals)} customers are free to duplicate")
            found = _Duplicates(spec)
            for original in originals:
                created = pop.cust_created[original]
                day = spec.day - 1 if spec.day else rng.randint(min(created + 1, -1), -1)
                dup = pop.add_customer(pop.cust_segment[original], pop.cust_region[original], day)
                pop.duplicate_of[dup] = original
                found.pairs.append((original, dup))
            self.duplicates.append(found)
        self.bad_contacts: list[_BadContacts] = []
        for burst in bad_contacts:
            rng = stream(world.seed, "defect", burst.id)
            emails = pop.pick_customers(rng, burst.emails)
            phones = pop.pick_customers(rng, burst.phones)
            if len(emails) < burst.emails or len(phones) < burst.phones:
                raise fail(burst, "not enough customers are free for the burst")
            self.bad_contacts.append(_BadContacts(burst, emails, phones))

    def _duplicate_row(self, original: int, dup: int) -> Row:
        """The same person typed again: a slip in the name, the phone in another format, and
        sometimes another email."""
        world, pop = self.world, self.world.population
        rng = stream(world.seed, "duplicate", dup)
        created = pop.cust_created[dup]
        person = person_on(pop, original, created)
        first, last = person.first, person.last
        roll = rng.random()
        if roll < 0.45:
            first = typo(rng, first)
        elif roll < 0.9:
            last = typo(rng, last)
        else:
            first, last = typo(rng, first), typo(rng, last)
        person = replace(person, first=first, last=last)
        roll = rng.random()
        if roll < 0.3:
            person = new_email(world.seed, dup, world.market.people, person)
        elif roll < 0.4:
            person = replace(person, email=person.email.upper())
        nsn = pop.nsn(pop.cust_first_line[original])
        usual = customer_row(world, original, person, 0)["phone"]
        phone = human_msisdn(rng, world.market.numbering, nsn)
        while phone == usual:
            phone = human_msisdn(rng, world.market.numbering, nsn)
        return customer_row(world, dup, person, customer_created(pop, dup), phone)

    def rows_on(self, day: int) -> list[Row]:
        """Customer rows the defects add to `day`'s batch (day 0: the snapshot)."""
        rows = []
        for found in self.duplicates:
            if (found.spec.day or 1) - 1 == day:
                rows += [self._duplicate_row(original, dup) for original, dup in found.pairs]
        for bad in self.bad_contacts:
            if bad.spec.day - 1 != day:
                continue
            rows += [self._bad_row(c, day, broken_email=True) for c in bad.emails]
            rows += [self._bad_row(c, day, broken_email=False) for c in bad.phones]
        return rows

    def _bad_row(self, customer: int, day: int, broken_email: bool) -> Row:
        world, pop = self.world, self.world.population
        rng = stream(world.seed, "bad-contact", customer)
        person = person_on(pop, customer, day)
        updated = day * DAY + BURST_START + mix(customer, 10) % BURST_SECONDS
        if broken_email:
            return customer_row(
                world, customer, replace(person, email=invalid_email(rng, person.email)), updated
            )
        phone = malformed_phone(rng, world.market.numbering, pop.nsn(pop.cust_first_line[customer]))
        return customer_row(world, customer, person, updated, phone)

    def pairs(self) -> list[tuple[int, int]]:
        return [pair for found in self.duplicates for pair in found.pairs]

    def incidents(self) -> dict[str, Incident]:
        window, pop = self.world.window, self.world.population
        found_incidents: dict[str, Incident] = {}
        for found in self.duplicates:
            day = (found.spec.day or 1) - 1
            found_incidents[found.spec.id] = Incident(
                id=found.spec.id,
                kind=found.spec.kind,
                source="crm",
                entity="customers",
                start=window.at(day * DAY),
                end=window.at((day + 1) * DAY),
                rows_affected=len(found.pairs),
                revenue_impact=0,
                impact_basis="none: data quality (counts the duplicate customer records)",
                detail={
                    "in_snapshot": found.spec.day is None,
                    "pairs": sorted(
                        sorted((pop.customer_id(a), pop.customer_id(b))) for a, b in found.pairs
                    ),
                },
            )
        for bad in self.bad_contacts:
            day = bad.spec.day - 1
            found_incidents[bad.spec.id] = Incident(
                id=bad.spec.id,
                kind=bad.spec.kind,
                source="crm",
                entity="customers",
                start=window.at(day * DAY + BURST_START),
                end=window.at(day * DAY + BURST_START + BURST_SECONDS),
                rows_affected=len(bad.emails) + len(bad.phones),
                revenue_impact=0,
                impact_basis="none: data quality (counts customer rows with a broken value)",
                detail={
                    "invalid_emails": sorted(pop.customer_id(c) for c in bad.emails),
                    "malformed_phones": sorted(pop.customer_id(c) for c in bad.phones),
                },
            )
        return found_incidents
