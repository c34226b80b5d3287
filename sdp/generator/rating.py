"""The rating rule: what billing should have charged for one CDR (DESIGN, "Rating rule").

Pure functions on Decimal, kept apart from the generator because the revenue-assurance controls
and the scoring compare billed amounts against exactly this rule, edge cases included:

- the tariff row valid at the event's date applies (`valid_from <= date < valid_to`);
- voice: answered or dropped calls with `duration_s > 0`, `ceil(duration_s / 60)` minutes; any
  other voice result is not billed;
- sms: one message per record; data: `volume_mb`; every sms and data record is billable
  whatever its call_result;
- amounts rounded half-up to 4 places (not banker's rounding).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

MONEY = Decimal("0.0001")
SERVICES = ("voice", "sms", "data")
UNITS = {"voice": "minute", "sms": "message", "data": "mb"}
BILLED_VOICE_RESULTS = frozenset({"answered", "dropped"})
_ONE = Decimal(1)


class TariffRow(Protocol):
    """Any row with these fields: the ERP feed's rows, the generator's, the scorer's."""

    @property
    def plan_code(self) -> str: ...
    @property
    def service_type(self) -> str: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def valid_from(self) -> date: ...
    @property
    def valid_to(self) -> date | None: ...


T = TypeVar("T", bound=TariffRow)


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(MONEY, rounding=ROUND_HALF_UP)


def billable_quantity(
    service_type: str, call_result: str, duration_s: int | None, volume_mb: Decimal | None
) -> Decimal | None:
    """Units to charge in the plan's unit, or None when the record is not billable."""
    if service_type == "voice":
        if call_result not in BILLED_VOICE_RESULTS or not duration_s or duration_s <= 0:
            return None
        return Decimal(-(-duration_s // 60))
    if service_type == "sms":
        return _ONE
    if service_type == "data":
        return volume_mb
    raise ValueError(f"unknown service_type {service_type!r}")


def rate(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return round_money(quantity * unit_price)


def tariff_at(rows: Iterable[T], plan_code: str, service_type: str, day: date) -> T | None:
    """The row of a plan and service valid on `day`; valid_to is exclusive, None open-ended."""
    for row in rows:
        if (
            row.plan_code == plan_code
            and row.service_type == service_type
            and row.valid_from <= day
            and (row.valid_to is None or day < row.valid_to)
        ):
            return row
    return None


def expected_amount(
    service_type: str,
    call_result: str,
    duration_s: int | None,
    volume_mb: Decimal | None,
    unit_price: Decimal,
) -> Decimal | None:
    """The amount the rule charges for one record, None when the record is not billable."""
    quantity = billable_quantity(service_type, call_result, duration_s, volume_mb)
    return None if quantity is None else rate(quantity, unit_price)
