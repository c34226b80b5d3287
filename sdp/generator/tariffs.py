"""The operator's tariff catalogue as ERP publishes it, with price changes inside the window.

Plans price each service per unit and carry a monthly fee. Two prices change mid-window (the old
row's valid_to is the new row's valid_from), so rating has to pick the row valid at the event's
date rather than the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sdp.generator.clock import Window
from sdp.generator.rating import SERVICES, UNITS, tariff_at

CURRENCY = "GBP"
CATALOGUE_SINCE = date(2025, 4, 1)


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    segment: str
    monthly_fee: Decimal
    prices: tuple[Decimal, Decimal, Decimal]  # voice, sms, data: as SERVICES


def _plan(code: str, name: str, segment: str, fee: str, *prices: str) -> Plan:
    voice, sms, data = (Decimal(p) for p in prices)
    return Plan(code, name, segment, Decimal(fee), (voice, sms, data))


PLANS = (
    _plan("PAYG-FLEX", "Pay As You Go Flex", "consumer", "0.00", "0.1500", "0.1000", "0.0450"),
    _plan("SIMO-5GB", "SIM Only 5GB", "consumer", "8.00", "0.0550", "0.0350", "0.0125"),
    _plan("SIMO-30GB", "SIM Only 30GB", "consumer", "15.00", "0.0375", "0.0250", "0.0065"),
    _plan("UNL-PLUS", "Unlimited Plus", "consumer", "32.00", "0.0100", "0.0100", "0.0015"),
    _plan("BIZ-ESSENTIAL", "Business Essential", "business", "18.00", "0.0450", "0.0300", "0.0095"),
    _plan("BIZ-PRO", "Business Pro", "business", "29.00", "0.0250", "0.0200", "0.0055"),
    _plan("BIZ-DATA-100", "Business Data 100GB", "business", "40.00", "0.0300", "0.0250", "0.0025"),
)
PLAN_INDEX = {plan.code: i for i, plan in enumerate(PLANS)}
# (plan, service, new unit price), effective on the window's middle day
PRICE_CHANGES = (
    ("SIMO-30GB", "data", Decimal("0.0072")),
    ("PAYG-FLEX", "voice", Decimal("0.1650")),
)


@dataclass(frozen=True)
class Tariff:
    plan_code: str
    plan_name: str
    service_type: str
    unit: str
    unit_price: Decimal
    monthly_fee: Decimal
    currency: str
    valid_from: date
    valid_to: date | None


class TariffBook:
    """The tariff rows, and the price of each plan and service on each window day.

    The per-day table is derived from the rows with the rating rule's own lookup, so the hot
    loop's prices cannot drift from what the rule says.
    """

    def __init__(self, rows: tuple[Tariff, ...], window: Window) -> None:
        self.rows = rows
        self.prices: list[list[tuple[Decimal, ...]]] = []
        for day in range(window.days):
            on = window.date_of(day)
            table = []
            for plan in PLANS:
                found = [tariff_at(rows, plan.code, service, on) for service in SERVICES]
                table.append(tuple(row.unit_price for row in found if row is not None))
            self.prices.append(table)


def build_tariffs(window: Window) -> TariffBook:
    change = window.date_of(window.days // 2)
    changed = {(plan, service): price for plan, service, price in PRICE_CHANGES}
    rows = []
    for plan in PLANS:
        for service, price in zip(SERVICES, plan.prices, strict=True):
            new_price = changed.get((plan.code, service))
            common = (plan.code, plan.name, service, UNITS[service])
            tail = (plan.monthly_fee, CURRENCY)
            if new_price is None:
                rows.append(Tariff(*common, price, *tail, CATALOGUE_SINCE, None))
            else:
                rows.append(Tariff(*common, price, *tail, CATALOGUE_SINCE, change))
                rows.append(Tariff(*common, new_price, *tail, change, None))
    return TariffBook(tuple(rows), window)


def dearer_plan(code: str) -> str | None:
    """The next dearer plan of the same segment, if any: what a line provisioned on the wrong
    plan gets on the network while billing charges its own."""
    plan = PLANS[PLAN_INDEX[code]]
    dearer = sorted(
        (p for p in PLANS if p.segment == plan.segment and p.monthly_fee > plan.monthly_fee),
        key=lambda p: p.monthly_fee,
    )
    return dearer[0].code if dearer else None
