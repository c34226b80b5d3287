"""Phone numbers to E.164 by libphonenumber's metadata, for any home country.

Every feed writes numbers its own way: mediation as international digits with or without "+",
CRM as people typed them (national with a trunk prefix, "(0)", separators), billing as a
';'-separated list. One definition normalizes them all: `normalize` here. `refresh` keeps the
table `reference.phone_numbers` holding the answer for each distinct raw value the raw tables
carry, and dbt staging joins that table (macros `phone_e164` / `phone_issue`), so SQL never
re-implements numbering plans.

A number is kept in E.164 when it has a possible length for its country; `is_valid` says whether
libphonenumber knows its range as allocated (metadata lags new allocations, so an unknown range
is an issue to report, not a reason to drop the operator's own subscriber). A value that cannot
be a number has no E.164 and an `issue` saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult
from psycopg import Connection, sql

TABLE = "reference.phone_numbers"
LIBRARY_VERSION = phonenumbers.__version__


@dataclass(frozen=True)
class PhoneColumn:
    """A free-form phone column of the contract, which staging reads through the table."""

    table: str  # in schema raw
    column: str
    separator: str | None = None  # between several numbers in one value
    # the operator's own subscriber lines: a number of another country here means the profile's
    # home country is wrong (a customer's contact phone or a called number may be foreign)
    home_lines: bool = False

    @property
    def label(self) -> str:
        return f"raw.{self.table}.{self.column}"


PHONE_COLUMNS: tuple[PhoneColumn, ...] = (
    PhoneColumn("crm_customers", "phone"),
    PhoneColumn("crm_subscriptions", "msisdn", home_lines=True),
    PhoneColumn("billing_accounts", "phone"),
    PhoneColumn("billing_accounts", "msisdns", ";", home_lines=True),
    PhoneColumn("billing_usage", "msisdn", home_lines=True),
    PhoneColumn("cdr_records", "msisdn", home_lines=True),
    PhoneColumn("cdr_records", "called_number"),
    PhoneColumn("oss_provisioning", "msisdn", home_lines=True),
)
# Above this share of a line column not being home-country numbers, the profile is wrong, not
# the data: the check fails and blocks staging. Above the warning share it only warns.
HOME_LINES_FAIL_SHARE = 0.5
HOME_LINES_WARN_SHARE = 0.01

_TYPES = {value: name.lower() for name, value in vars(PhoneNumberType).items() if name.isupper()}
_LENGTH_ISSUES = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "a length no number of the country has",
    ValidationResult.INVALID_COUNTRY_CODE: "no country has its calling code",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too short to dial in full (no area code?)",
    ValidationResult.IS_POSSIBLE: "not in an allocated range, and a trunk prefix left in it",
}
_PARSE_ISSUES = {
    NumberParseException.INVALID_COUNTRY_CODE: "no country has its calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
# what may stand around the digits of a number written by a person or a switch
_DIGITS_ONLY = re.compile(r"^[\d\s().\-/]+$")


@dataclass(frozen=True)
class Normalized:
    raw_value: str
    e164: str | None
    region: str | None  # ISO 3166 region of the number (GG for a Guernsey +44 number)
    number_type: str | None  # mobile, fixed_line, fixed_line_or_mobile, toll_free, ...
    is_valid: bool
    issue: str | None  # why the value is not a valid number; None when it is one


def _parse(text: str, country: str) -> phonenumbers.PhoneNumber | str:
    try:
        return phonenumbers.parse(text, country)
    except NumberParseException as exc:
        return _PARSE_ISSUES.get(exc.error_type, "not a phone number")


def _answer(raw: str, number: phonenumbers.PhoneNumber) -> Normalized:
    region = phonenumbers.region_code_for_number(number)
    if phonenumbers.is_valid_number(number):
        issue = None
    elif region is None:
        issue = "a possible length, but not in a range libphonenumber knows as allocated"
    else:
        issue = f"a possible length, but not in a range allocated in {region}"
    kind = phonenumbers.number_type(number)
    return Normalized(
        raw_value=raw,
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region=region,
        number_type=None if kind == PhoneNumberType.UNKNOWN else _TYPES.get(kind),
        is_valid=issue is None,
        issue=issue,
    )


def _is_number(candidate: phonenumbers.PhoneNumber | str | None) -> bool:
    return isinstance(candidate, phonenumbers.PhoneNumber)


def _possible(number: phonenumbers.PhoneNumber) -> bool:
    """A length the country's numbers have when dialled in full (not only locally), and no
    trunk prefix left in it (libphonenumber keeps a leading zero it could not strip)."""
    reason = phonenumbers.is_possible_number_with_reason(number)
    return reason == ValidationResult.IS_POSSIBLE and not number.italian_leading_zero


def normalize(raw: str, country: str) -> Normalized:
    """`raw` as E.164, reading national formats as numbers of home `country` (ISO alpha-2).

    International numbers are recognized with "+", with the home country's international
    prefix ("00", "011") and without any prefix (mediation systems drop the "+"): bare digits
    that start with the home calling code are read as international first (4915123456789 in
    DE is the mobile +49 1512 3456789), other bare digits as national first, then as
    international (33612345678 read in GB is the French mobile)."""
    text = raw.strip()
    if not text:
        return Normalized(raw, None, None, None, False, "empty")
    national = _parse(text, country)
    candidates = [national]
    if _DIGITS_ONLY.match(text) and not text.lstrip("( ").startswith(("0", "+")):
        digits = re.sub(r"\D", "", text)
        bare = _parse("+" + digits, country)
        home_code = str(phonenumbers.country_code_for_region(country))
        candidates = [bare, national] if digits.startswith(home_code) else [national, bare]
    numbers = [c for c in candidates if _is_number(c)]
    for test in (phonenumbers.is_valid_number, _possible):
        for number in numbers:
            if test(number):
                return _answer(text, number)
    if not _is_number(national):
        return Normalized(text, None, None, None, False, national)
    reason = phonenumbers.is_possible_number_with_reason(national)
    issue = _LENGTH_ISSUES.get(reason, "not a phone number")
    return Normalized(text, None, None, None, False, issue)


def _values(col: PhoneColumn) -> sql.Composed:
    """`select <one raw value per row> as v from raw.<table>`."""
    value: sql.Composable = sql.Identifier(col.column)
    if col.separator:
        value = sql.SQL("unnest(string_to_array({}, {}))").format(value, sql.Literal(col.separator))
    return sql.SQL("select {} as v from {}").format(value, sql.Identifier("raw", col.table))


def _raw_values_query() -> sql.Composed:
    parts = [_values(col) for col in PHONE_COLUMNS]
    return sql.SQL(
        "select distinct btrim(v) from ({}) as s where nullif(btrim(v), '') is not null"
        " except select raw_value from {} where home_country = %s and library_version = %s"
    ).format(sql.SQL(" union all ").join(parts), sql.SQL(TABLE))


def pending(conn: Connection, country: str) -> list[str]:
    """Raw values not yet normalized for `country` by this library version."""
    return [r[0] for r in conn.execute(_raw_values_query(), (country, LIBRARY_VERSION))]


def _rows(values: Iterable[str], country: str) -> Iterator[tuple]:
    for value in values:
        n = normalize(value, country)
        yield (country, n.raw_value, n.e164, n.region, n.number_type, n.is_valid, n.issue)


@dataclass(frozen=True)
class Refresh:
    normalized: int  # values (re)normalized by this call
    total: int  # values the table holds for the country
    invalid: int  # of those, not valid numbers
    not_numbers: int  # of those, not numbers at all


def refresh(conn: Connection, country: str) -> Refresh:
    """Normalize the raw values the table does not hold yet for `country` (or holds from
    another library version): the cost follows new values, and concurrent refreshes are
    safe (the last writer of a value writes the same answer)."""
    values = pending(conn, country)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            f"insert into {TABLE} (home_country, raw_value, e164, region, number_type,"
            " is_valid, issue, library_version) values (%s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (home_country, raw_value) do update set e164 = excluded.e164,"
            " region = excluded.region, number_type = excluded.number_type,"
            " is_valid = excluded.is_valid, issue = excluded.issue,"
            " library_version = excluded.library_version, normalized_at = now()",
            [(*row, LIBRARY_VERSION) for row in _rows(values, country)],
        )
    total, invalid, not_numbers = conn.execute(
        f"select count(*), count(*) filter (where not is_valid), count(*) filter"
        f" (where e164 is null) from {TABLE} where home_country = %s",
        (country,),
    ).fetchone()
    return Refresh(len(values), total, invalid, not_numbers)


@dataclass(frozen=True)
class LineFit:
    """How many of a line column's values are numbers of the home country."""

    column: PhoneColumn
    rows: int
    foreign: int  # valid numbers of another calling code
    not_numbers: int  # no E.164 at all
    foreign_codes: tuple[tuple[str, int], ...]  # (region, rows), most first
    samples: tuple[str, ...]  # raw values that do not fit

    @property
    def misfits(self) -> int:
        return self.foreign + self.not_numbers

    @property
    def share(self) -> float:
        return self.misfits / self.rows if self.rows else 0.0

    def hint(self, country: str, setting: str) -> str:
        """What is likely wrong, in words: the profile, when most lines are another country's."""
        words = (
            f"{self.misfits:,} of {self.rows:,} {self.column.label} values are not valid "
            f"numbers for home country {country}"
        )
        if self.foreign_codes:
            regions = ", ".join(f"{r} {n:,}" for r, n in self.foreign_codes[:3])
            words += f" (numbers of {regions})"
        if self.share > HOME_LINES_FAIL_SHARE:
            words += f": check {setting}"
        if self.samples:
            words += "; samples: " + ", ".join(repr(v) for v in self.samples)
        return words


def home_line_fit(conn: Connection, country: str) -> list[LineFit]:
    """For each subscriber-line column, how many rows fit the home country, with samples."""
    code = f"+{phonenumbers.country_code_for_region(country)}"
    fits = []
    for col in PHONE_COLUMNS:
        if not col.home_lines:
            continue
        # one row per (region, kind) of the column's values: kind home, foreign or not a number
        groups = conn.execute(
            sql.SQL(
                "select coalesce(n.region, '?'), case when n.e164 is null then 'none'"
                " when n.e164 like %(code)s || '%%' then 'home' else 'foreign' end as kind,"
                " count(*), (array_agg(distinct btrim(s.v) order by btrim(s.v)))[1:5]"
                " from ({}) as s left join {} as n"
                " on n.home_country = %(country)s and n.raw_value = btrim(s.v)"
                " where nullif(btrim(s.v), '') is not null group by 1, 2 order by 3 desc, 1"
            ).format(_values(col), sql.SQL(TABLE)),
            {"country": country, "code": code},
        ).fetchall()
        misfits = [g for g in groups if g[1] != "home"]
        fits.append(
            LineFit(
                col,
                rows=sum(g[2] for g in groups),
                foreign=sum(g[2] for g in misfits if g[1] == "foreign"),
                not_numbers=sum(g[2] for g in misfits if g[1] == "none"),
                foreign_codes=tuple((g[0], g[2]) for g in misfits if g[1] == "foreign")[:3],
                samples=tuple(sorted(v for g in misfits for v in g[3]))[:5],
            )
        )
    return fits
