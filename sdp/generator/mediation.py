"""Mediation: one element-day of CDRs into its feed, and on to billing.

Voice and SMS arrive from the MSC and SMSC mediation as CSV, data sessions from the packet core
(PGW) as JSON lines; a record is in exactly one of them. cdr_ids number the element's records
of the day in time order, so a drop leaves a gap in the sequence, as real mediation does. A
replay re-sends exact copies in a second batch of the same partition, landed hours later.
"""

from __future__ import annotations

from contextlib import ExitStack
from decimal import Decimal

from sdp.generator.clock import HOUR
from sdp.generator.feeds import Batch, Landing, default_landed_at
from sdp.generator.population import NO_BILLING
from sdp.generator.randomness import stream
from sdp.generator.rating import SERVICES, billable_quantity, rate
from sdp.generator.records import Row
from sdp.generator.topology import Element
from sdp.generator.traffic import RESULTS, Cdr
from sdp.generator.usage import UsageBiller
from sdp.generator.usage_defects import DROP, REPLAY, CdrDefects, classify
from sdp.generator.world import World

REPLAY_LANDS_AFTER = 3 * HOUR  # after the element's regular batch


def deliver(
    world: World,
    landing: Landing,
    biller: UsageBiller,
    defects: CdrDefects,
    day: int,
    element: Element,
    cdrs: list[Cdr],
) -> None:
    cdrs.sort()
    pop, window = world.population, world.window
    on = window.date_of(day)
    rules = defects.for_element(element.id, day)
    rng = stream(world.seed, "defects", on.isoformat(), element.id)
    packet_core = element.type == "pgw"
    stamp = window.stamper("packet_core" if packet_core else "cdr")
    numbering = world.market.numbering
    msisdn = {line: numbering.styled(numbering.mediation, pop.nsn(line)) for _, line, *_ in cdrs}
    prefix = f"{element.id}-{on:%Y%m%d}-"
    prices = world.tariffs.prices[day]
    line_plan, line_flags = pop.line_plan, pop.line_flags
    bill = biller.bill
    with ExitStack() as stack:
        out = stack.enter_context(
            landing.open(
                "cdr",
                "records",
                day,
                element=element,
                fmt="jsonl" if packet_core else "csv",
            )
        )
        replay: Batch | None = None
        for seq, (t, line, _, service, duration, volume, result, called, cell) in enumerate(
            cdrs, 1
        ):
            plan = line_plan[line]
            quantity = billable_quantity(
                SERVICES[service],
                RESULTS[result],
                duration,
                None if volume is None else Decimal(volume),
            )
            amount = None if quantity is None else rate(quantity, prices[plan][service])
            rule = None
            if rules:
                billed_line = not line_flags[line] & NO_BILLING
                rule = classify(rules, plan, t, service, quantity is not None, billed_line, rng)
            cdr_id = f"{prefix}{seq:07d}"
            if rule is not None and rule.action == DROP:
                rule.tally.add(amount)
                if amount is not None:
                    rule.tally.count("billable_cdrs")
                continue
            row: Row = {
                "cdr_id": cdr_id,
                "msisdn": msisdn[line],
                "called_number": called,
                "event_time": stamp(t),
                "service_type": SERVICES[service],
                "duration_s": duration,
                "volume_mb": (float(volume) if packet_core else volume) if volume else None,
                "call_result": RESULTS[result],
                "cell_id": cell,
                "network_element_id": element.id,
            }
            if rule is not None and rule.action == REPLAY:
                if replay is None:
                    landed = default_landed_at("cdr", day) + REPLAY_LANDS_AFTER
                    replay = stack.enter_context(
                        landing.open(
                            "cdr",
                            "records",
                            day,
                            element=element,
                            seq=2,
                            fmt="jsonl" if packet_core else "csv",
                            landed_at=landed,
                        )
                    )
                    rule.batch_ids.add(replay.batch_id)
                replay.write(dict(row))
                rule.tally.add()
            out.write(row)
            bill(cdr_id, line, plan, t, service, duration, quantity, amount, rule)
