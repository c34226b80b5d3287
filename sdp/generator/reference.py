"""Reference feeds: ERP tariffs, OSS inventory and provisioning, CRM customers and
subscriptions, billing accounts.

Day 1 lands a full snapshot of each (the state before the window); every later day lands one
change batch per changing entity, possibly empty, so every day has its batches and a late or
missing one is visible. Changes are the day's new customers and lines, terminations,
suspensions, moves and email changes, plus what the customer defects add to CRM.
"""

from __future__ import annotations

from sdp.generator.customer_defects import CustomerDefects
from sdp.generator.feeds import Landing
from sdp.generator.population import NO_ACCOUNT, NO_CRM, OFF_NETWORK
from sdp.generator.records import (
    Row,
    account_row,
    business_hours,
    customer_row,
    person_on,
    provisioning_row,
    snapshot_customer_row,
    subscription_row,
)
from sdp.generator.topology import Element
from sdp.generator.world import World


def write_reference(world: World, landing: Landing, customers: CustomerDefects, day: int) -> None:
    if day == 0:
        _snapshot(world, landing, customers)
    else:
        _changes(world, landing, customers, day)


def _element_row(element: Element) -> Row:
    return {
        "network_element_id": element.id,
        "element_type": element.type,
        "vendor": element.vendor,
        "region": element.region,
        "site_id": element.site_id,
        "parent_element_id": element.parent,
        "status": "in_service",
        "commissioned_at": element.commissioned.isoformat(),
    }


def _snapshot(world: World, landing: Landing, customers: CustomerDefects) -> None:
    pop = world.population
    with landing.open("erp", "tariff_plans", 0) as out:
        for tariff in world.tariffs.rows:
            out.write(
                {
                    "plan_code": tariff.plan_code,
                    "plan_name": tariff.plan_name,
                    "service_type": tariff.service_type,
                    "unit": tariff.unit,
                    "unit_price": f"{tariff.unit_price:.4f}",
                    "monthly_fee": f"{tariff.monthly_fee:.2f}",
                    "currency": tariff.currency,
                    "valid_from": tariff.valid_from.isoformat(),
                    "valid_to": tariff.valid_to.isoformat() if tariff.valid_to else None,
                }
            )
    with landing.open("oss", "network_elements", 0) as out:
        for element in world.topology.elements:
            out.write(_element_row(element))
    before = [c for c in range(pop.customers) if pop.cust_created[c] < 0]
    with landing.open("crm", "customers", 0) as out:
        for customer in before:
            if customer not in pop.duplicate_of:
                out.write(snapshot_customer_row(world, customer))
        for row in customers.rows_on(0):
            out.write(row)
    lines = [line for line in range(pop.lines) if pop.line_start[line] < 0]
    with landing.open("crm", "subscriptions", 0) as out:
        for line in lines:
            if not pop.line_flags[line] & NO_CRM:
                out.write(subscription_row(world, line, -1))
    with landing.open("billing", "accounts", 0) as out:
        for account in range(pop.accounts):
            if pop.acct_opened[account] < 0:
                out.write(account_row(world, account, -1))
    with landing.open("oss", "provisioning", 0) as out:
        for line in lines:
            if not pop.line_flags[line] & OFF_NETWORK:
                out.write(provisioning_row(world, line, -1))


def _changes(world: World, landing: Landing, customers: CustomerDefects, day: int) -> None:
    pop = world.population
    changes = pop.changes[day]
    started = [line for line in range(pop.lines) if pop.line_start[line] == day]
    ended = [*changes.terminations, *changes.suspensions]
    with landing.open("crm", "customers", day) as out:
        for customer in changes.new_customers:
            person = pop.person(customer)
            out.write(customer_row(world, customer, person, business_hours(customer, day, 1)))
        for customer in sorted({*changes.moves, *changes.email_changes}):
            updated = business_hours(customer, day, 11)
            out.write(customer_row(world, customer, person_on(pop, customer, day), updated))
        for row in customers.rows_on(day):
            out.write(row)
    with landing.open("crm", "subscriptions", day) as out:
        for line in sorted(started + ended):
            if not pop.line_flags[line] & NO_CRM:
                out.write(subscription_row(world, line, day))
    touched = (
        {pop.line_account[line] for line in changes.terminations}
        | {
            account
            for customer in (*changes.moves, *changes.email_changes)
            for account in range(
                pop.cust_first_account[customer],
                pop.cust_first_account[customer] + pop.cust_accounts[customer],
            )
        }
        | {account for account in range(pop.accounts) if pop.acct_opened[account] == day}
    )
    with landing.open("billing", "accounts", day) as out:
        for account in sorted(touched - {NO_ACCOUNT}):
            out.write(account_row(world, account, day))
    with landing.open("oss", "provisioning", day) as out:
        for line in sorted(started + ended):
            if not pop.line_flags[line] & OFF_NETWORK:
                out.write(provisioning_row(world, line, day))
