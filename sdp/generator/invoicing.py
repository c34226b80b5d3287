"""Bill runs: monthly invoices per billing account, and the GL revenue postings they make.

Recurring is the full monthly_fee of every line on the account active on any day of the
period (no proration); usage is what the bill run invoices by the operator's convention (see
`sdp.generator.usage`); tax is the market's VAT rate of both. The GL posts, per period and
revenue stream, to the market's GL accounts exactly what the invoices hold, unless a
gl_mismatch defect says otherwise.
"""

from __future__ import annotations

from array import array
from decimal import Decimal

from sdp.generator.clock import DAY, BillRun
from sdp.generator.feeds import Landing
from sdp.generator.incidents import Incident, money, to_units
from sdp.generator.market import SEGMENTS
from sdp.generator.rating import SERVICES, round_money
from sdp.generator.scenario import GlMismatch
from sdp.generator.world import World

STREAMS = ("recurring", *SERVICES)


def write_bill_run(
    world: World,
    landing: Landing,
    run: BillRun,
    usage: array,
    gl_defects: list[tuple[GlMismatch, str]],
) -> dict[str, Incident]:
    """Invoices and GL postings of one bill run; `gl_defects` pairs each defect with the period
    it hits."""
    pop, window, market = world.population, world.window, world.market
    issue = window.date_of(run.day)
    yyyymm = run.period.replace("-", "")
    # per stream, the invoiced amount of each segment the GL posts apart (one part, None, when
    # the market's GL posts a stream in one posting)
    totals: dict[str, dict[str | None, int]] = {stream: {} for stream in STREAMS}
    fees = [to_units(plan.monthly_fee) for plan in world.market.plans]
    services = len(SERVICES)
    with landing.open("billing", "invoices", run.day) as out:
        number = 0
        for account in range(pop.accounts):
            active = [
                line
                for line in pop.account_lines(account)
                if pop.active_between(line, run.first_day, run.last_day)
            ]
            by_service = usage[account * services : (account + 1) * services]
            if not active and not any(by_service):
                continue
            recurring = sum(fees[pop.line_plan[line]] for line in active)
            used = sum(by_service)
            tax = to_units(round_money(Decimal(recurring + used).scaleb(-4) * market.vat_rate))
            number += 1
            out.write(
                {
                    "invoice_id": market.ids["invoice"].format(period=yyyymm, n=number),
                    "account_id": pop.account_id(account),
                    "period": run.period,
                    "issue_date": issue.isoformat(),
                    "recurring_amount": money(recurring),
                    "usage_amount": money(used),
                    "tax_amount": money(tax),
                    "total_amount": money(recurring + used + tax),
                    "currency": world.profile.currency,
                }
            )
            owner = pop.acct_customer[account]
            part = SEGMENTS[pop.cust_segment[owner]] if market.gl_by_segment else None
            for stream, amount in (
                ("recurring", recurring),
                *zip(SERVICES, by_service, strict=True),
            ):
                totals[stream][part] = totals[stream].get(part, 0) + amount
    incidents: dict[str, Incident] = {}
    with landing.open("erp", "gl_revenue", run.day) as out:
        for revenue_stream in STREAMS:
            parts = totals[revenue_stream] or {None: 0}
            invoiced = sum(parts.values())
            posted: int | None = invoiced
            posting_ids = {
                part: market.ids["gl_posting"].format(
                    period=yyyymm, stream=revenue_stream.upper(), segment=(part or "").upper()
                )
                for part in sorted(parts, key=str)
            }
            posting_id = next(iter(posting_ids.values()))
            for spec, period in gl_defects:
                if (spec.revenue_stream, period) != (revenue_stream, run.period):
                    continue
                posted = (
                    None
                    if spec.mode == "missing"
                    else invoiced + to_units(spec.delta or Decimal(0))
                )
                incidents[spec.id] = Incident(
                    id=spec.id,
                    kind=spec.kind,
                    source="erp",
                    entity="gl_revenue",
                    start=window.at(run.first_day * DAY),
                    end=window.at((run.last_day + 1) * DAY),
                    rows_affected=1,
                    revenue_impact=invoiced - (posted or 0),
                    impact_basis="invoiced minus posted revenue for the period and stream "
                    "(positive: revenue missing from the GL)",
                    service_type=revenue_stream if revenue_stream in SERVICES else None,
                    detail={
                        "period": run.period,
                        "revenue_stream": revenue_stream,
                        "mode": spec.mode,
                        "posting_id": posting_id,
                        "invoiced": money(invoiced),
                        "posted": None if posted is None else money(posted),
                    },
                )
            if posted is None:
                continue
            # a defect's difference lands on the stream's first posting
            difference = posted - invoiced
            for part, part_id in posting_ids.items():
                out.write(
                    {
                        "posting_id": part_id,
                        "posting_date": issue.isoformat(),
                        "period": run.period,
                        "gl_account": market.gl_accounts[revenue_stream],
                        "revenue_stream": revenue_stream,
                        "amount": money(parts[part] + difference),
                        "currency": world.profile.currency,
                    }
                )
                difference = 0
    return incidents
