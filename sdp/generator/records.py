"""How each reference entity renders as a row on a given day, in its system's habits.

A row is rendered from the population state and a stream per entity, never stored, so the
snapshot and a later change batch show the same record the same way except for what changed.
CRM and billing type names, phones and addresses differently (that is the linkage problem);
the network (provisioning) uses E.164.
"""

from __future__ import annotations

from sdp.generator.clock import DAY, HOUR
from sdp.generator.identity import (
    Person,
    address_line,
    billing_address,
    billing_email,
    billing_holder,
    crm_name,
    human_msisdn,
    moved,
    msisdn_style,
    new_email,
)
from sdp.generator.market import SEGMENTS
from sdp.generator.population import CRM_SUSPENDED, NEVER, Population
from sdp.generator.randomness import mix, stream
from sdp.generator.world import World

Row = dict[str, object]


def business_hours(key: int, day: int, salt: int = 0) -> int:
    """A stable moment between 08:00 and 19:00 of `day` for an entity's change."""
    return day * DAY + 8 * HOUR + mix(key, day, salt) % (11 * HOUR)


def person_on(pop: Population, customer: int, day: int) -> Person:
    """The customer as CRM knows them on `day`, after any move or email change."""
    found, market = pop.person(customer), pop.market
    if pop.moved_on.get(customer, NEVER) <= day:
        region = market.regions[pop.cust_region[customer]]
        found = moved(pop.seed, customer, market, region, found)
    if pop.email_changed_on.get(customer, NEVER) <= day:
        found = new_email(pop.seed, customer, market.people, found)
    return found


def customer_created(pop: Population, customer: int) -> int:
    return business_hours(customer, pop.cust_created[customer], 1)


def customer_row(
    world: World, customer: int, person: Person, updated: int, phone: str | None = None
) -> Row:
    pop, window, market = world.population, world.window, world.population.market
    rng = stream(world.seed, "crm-customer", customer)
    first, last = crm_name(rng, person.first), crm_name(rng, person.last)
    original = pop.duplicate_of.get(customer, customer)
    typed_phone = human_msisdn(rng, market.numbering, pop.nsn(pop.cust_first_line[original]))
    return {
        "customer_id": pop.customer_id(customer),
        "first_name": first,
        "last_name": last,
        "date_of_birth": person.birth.isoformat() if person.birth else None,
        "email": person.email,
        "phone": typed_phone if phone is None else phone,
        "address_line": address_line(market.people, person),
        "city": person.city,
        "postcode": person.postcode,
        "segment": SEGMENTS[pop.cust_segment[original]],
        "created_at": window.stamp("crm", customer_created(pop, customer)),
        "updated_at": window.stamp("crm", updated),
    }


def snapshot_customer_row(world: World, customer: int) -> Row:
    pop = world.population
    created = pop.cust_created[customer]
    updated_day = created + mix(customer, 2) % max(1, -created)
    updated = max(customer_created(pop, customer), business_hours(customer, updated_day, 2))
    return customer_row(world, customer, pop.person(customer), updated)


def crm_status(pop: Population, line: int, day: int) -> str:
    if pop.line_end[line] <= day:
        return "terminated"
    if pop.line_suspend[line] <= day or pop.line_flags[line] & CRM_SUSPENDED:
        return "suspended"
    return "active"


def subscription_row(world: World, line: int, day: int) -> Row:
    pop, window = world.population, world.window
    start, end, suspend = pop.line_start[line], pop.line_end[line], pop.line_suspend[line]
    changed = max(d for d in (start, end, suspend) if d <= day)
    updated = business_hours(line, changed, 3)
    if pop.line_flags[line] & CRM_SUSPENDED:
        updated = business_hours(line, -1 - mix(line, 4) % 20, 3)
    rng = stream(world.seed, "crm-line", line)
    return {
        "subscription_id": pop.subscription_id(line),
        "customer_id": pop.customer_id(pop.line_customer[line]),
        "msisdn": human_msisdn(rng, pop.market.numbering, pop.nsn(line)),
        "plan_code": pop.market.plans[pop.line_plan[line]].code,
        "status": crm_status(pop, line, day),
        "start_date": window.date_of(start).isoformat(),
        "end_date": window.date_of(end).isoformat() if end <= day else None,
        "updated_at": window.stamp("crm", updated),
    }


def account_row(world: World, account: int, day: int) -> Row:
    pop, window = world.population, world.window
    people, numbering = pop.market.people, pop.market.numbering
    customer = pop.acct_customer[account]
    person = person_on(pop, customer, day)
    rng = stream(world.seed, "billing-account", account)
    holder = billing_holder(rng, people, person.first, person.last)
    email = billing_email(rng, person.email)
    line, city, postcode = billing_address(rng, people, person)
    style = msisdn_style(rng, numbering)
    billed = pop.billed_on(account, day)
    return {
        "account_id": pop.account_id(account),
        "holder_name": holder,
        "email": email,
        "phone": human_msisdn(rng, numbering, pop.nsn(pop.cust_first_line[customer])),
        "billing_address": line,
        "city": city,
        "postcode": postcode,
        "status": "open" if billed else "closed",
        "opened_at": window.stamp("billing", business_hours(account, pop.acct_opened[account], 5)),
        "msisdns": ";".join(numbering.styled(style, pop.nsn(n)) for n in billed) or None,
    }


def provisioning_row(world: World, line: int, day: int) -> Row:
    pop, window = world.population, world.window
    start, end, suspend = pop.line_start[line], pop.line_end[line], pop.line_suspend[line]
    if end <= day:
        status, changed = "deprovisioned", end
    elif suspend <= day:
        status, changed = "barred", suspend
    else:
        status, changed = "active", start
    activated = business_hours(line, start, 7)
    return {
        "msisdn": pop.market.numbering.e164(pop.nsn(line)),
        "imsi": pop.imsi(line),
        "plan_code": pop.market.plans[pop.oss_plan.get(line, pop.line_plan[line])].code,
        "status": status,
        "activated_at": window.stamp("oss", activated),
        "deactivated_at": window.stamp("oss", business_hours(line, end, 8)) if end <= day else None,
        "updated_at": window.stamp(
            "oss", activated if changed == start else business_hours(line, changed, 8)
        ),
    }
