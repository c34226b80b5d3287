"""Row-level contract checks for the exact (slow) load path.

They agree with the raw tables' own constraints, so a row that passes here never fails COPY, and
each failure names the column and says why in words an operator's feed owner understands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from psycopg import Connection

from sdp.contracts import DECIMAL_PLACES, Column

# value -> (value to load, reason it is rejected); exactly one of the two is meaningful
Check = Callable[[str | None], tuple[str | None, str | None]]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
_INTEGER = re.compile(r"^[+-]?\d+$")


def _show(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _string(col: Column) -> Check:
    def check(value: str | None) -> tuple[str | None, str | None]:
        if value is None or not value.strip():
            return (None, "required value is missing") if col.required else (value or None, None)
        return value, None

    return check


def _enum(col: Column) -> Check:
    allowed = set(col.values)
    listed = ", ".join(col.values)

    def check(value: str | None) -> tuple[str | None, str | None]:
        if value is None or not value.strip():
            return (None, "required value is missing") if col.required else (None, None)
        if value not in allowed:
            return None, f"{_show(value)} is not one of {listed}"
        return value, None

    return check


def _typed(col: Column, parse: Callable[[str], str], kind: str) -> Check:
    def check(value: str | None) -> tuple[str | None, str | None]:
        if value is None or not value.strip():
            return (None, "required value is missing") if col.required else (None, None)
        try:
            return parse(value.strip()), None
        except (ValueError, ArithmeticError) as exc:
            detail = f" ({exc})" if str(exc) and "invalid" not in str(exc).lower() else ""
            return None, f"{_show(value)} is not a valid {kind}{detail}"

    return check


def parse_date(value: str) -> str:
    if not _DATE.match(value):
        raise ValueError("")
    return date.fromisoformat(value).isoformat()


def local_instant(naive: datetime, zone: tzinfo) -> datetime:
    """An offset-less time read as local time in `zone`, exactly as PostgreSQL reads it on
    the fast path: in the hour a clock change repeats, the later (standard-time) occurrence; a
    time the change skips takes the offset from before the change."""
    first = naive.replace(tzinfo=zone, fold=0)
    later = naive.replace(tzinfo=zone, fold=1)
    repeated = first.utcoffset() != later.utcoffset() and (
        later.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
    )
    return later if repeated else first


def parse_timestamp(value: str, zone: tzinfo) -> str:
    """The instant, written in the operator's zone `zone` (so its first ten characters are the
    operator's day); a value without an offset is local time there (`local_instant`)."""
    if not _TIMESTAMP.match(value):
        raise ValueError("")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = local_instant(parsed, zone)
    return parsed.astimezone(UTC).astimezone(zone).isoformat()


def parse_decimal(value: str) -> str:
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError("")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -DECIMAL_PLACES:
        raise ValueError(f"more than {DECIMAL_PLACES} decimal places")
    return str(number)


def parse_integer(value: str) -> str:
    if not _INTEGER.match(value):
        raise ValueError("")
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError("out of range")
    return str(number)


def session_zone(conn: Connection) -> ZoneInfo:
    """The warehouse session's time zone (the operator's, see `sdp.db.session_options`): the
    exact path reads offset-less timestamps in it, as COPY does on the fast path."""
    return ZoneInfo(conn.info.parameter_status("TimeZone") or "UTC")


def column_check(col: Column, zone: tzinfo) -> Check:
    """The check of one contract column; timestamps are read in the operator's zone `zone`."""
    if col.type == "string":
        return _string(col)
    if col.type == "enum":
        return _enum(col)
    parsers = {
        "date": (parse_date, "date (YYYY-MM-DD)"),
        "timestamp": (partial(parse_timestamp, zone=zone), "ISO 8601 timestamp"),
        "decimal": (parse_decimal, "decimal"),
        "integer": (parse_integer, "integer"),
    }
    parse, kind = parsers[col.type]
    return _typed(col, parse, kind)
