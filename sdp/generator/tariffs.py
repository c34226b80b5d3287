"""The operator's tariff catalogue as ERP publishes it, with price changes inside the window.

Plans (the market's) price each service per unit and carry a monthly fee. The market's price
changes take effect mid-window, so rating has to pick the row valid at the event's date rather
than the latest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sdp.generator.clock import Window
from sdp.generator.market import Market
from sdp.generator.rating import SERVICES, UNITS, tariff_at


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

    def __init__(self, rows: tuple[Tariff, ...], window: Window, market: Market) -> None:
        self.rows = rows
        self.prices: list[list[tuple[Decimal, ...]]] = []
        for day in range(window.days):
            on = window.date_of(day)
            table = []
            for plan in market.plans:
                found = [tariff_at(rows, plan.code, service, on) for service in SERVICES]
                table.append(tuple(row.unit_price for row in found if row is not None))
            self.prices.append(table)


def build_tariffs(window: Window, market: Market, currency: str) -> TariffBook:
    """The market's catalogue in the operator's currency, with its price changes effective on
    the window's middle day (the old row's valid_to is the new row's valid_from)."""
    change = window.date_of(window.days // 2)
    changed = {(c.plan, c.service): c.price for c in market.price_changes}
    since = market.catalogue_since
    rows = []
    for plan in market.plans:
        for service, price in zip(SERVICES, plan.prices, strict=True):
            new_price = changed.get((plan.code, service))
            common = (plan.code, plan.name, service, UNITS[service])
            tail = (plan.monthly_fee, currency)
            if new_price is None:
                rows.append(Tariff(*common, price, *tail, since, None))
            else:
                rows.append(Tariff(*common, price, *tail, since, change))
                rows.append(Tariff(*common, new_price, *tail, change, None))
    return TariffBook(tuple(rows), window, market)
