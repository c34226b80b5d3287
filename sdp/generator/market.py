"""The market a scenario's operator serves: its people, numbering habits, regions, catalogue.

Everything the generator draws that differs from one country's operator to another's lives in a
market file (`markets/<name>.yaml`), not in code: names and streets, how people and each system
write a mobile number, the regions and how the network names its elements, the tariff catalogue,
id formats, each feed's timestamp style and column order. The operator profile (country,
currency, time zone, billing conventions) comes from the platform's own `sdp.operator`, so the
generator and the platform read one definition of it; the market must be of the profile's
country. Adding an operator in another country is writing a market file, and the platform has to
cope with it having learnt nothing from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from sdp.generator.randomness import cumulative
from sdp.generator.rating import SERVICES

MARKETS = Path(__file__).resolve().parent / "markets"
SEGMENTS = ("consumer", "business")  # in the contract's vocabulary of customer segments
TIMESTAMP_STYLES = ("z", "offset", "naive")
FEEDS = ("crm", "billing", "cdr", "packet_core", "oss")
# each id the systems mint -> the placeholders its format may use
IDS = {
    "customer": {"n"},
    "account": {"n"},
    "subscription": {"n"},
    "usage": {"date", "n"},
    "invoice": {"period", "n"},
    "gl_posting": {"period", "stream", "segment"},
}
ELEMENT_NAMES = ("msc", "smsc", "pgw", "sgsn", "enodeb", "gnodeb", "core_site", "cell_site")


class MarketError(ValueError):
    """A market file that cannot be used; the message names the file, the key and why."""


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    weight: float  # share of the customers living there
    cities: tuple[tuple[str, tuple[str, ...]], ...]  # city, its postal areas


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    segment: str
    weight: float  # share of its segment's new lines
    monthly_fee: Decimal
    prices: tuple[Decimal, Decimal, Decimal]  # voice, sms, data: as SERVICES


@dataclass(frozen=True)
class PriceChange:
    plan: str
    service: str
    price: Decimal


@dataclass(frozen=True)
class Numbering:
    calling_code: int
    mobile_first: int
    mobile_size: int
    groups: tuple[int, ...]
    typed: tuple[tuple[int, str], ...]  # (weight, pattern) as people write a number
    mediation: str
    rating: str
    called_mobile_prefix: str
    called_mobile_digits: int
    landline_areas: tuple[str, ...]
    landline_length: int

    def e164(self, nsn: int) -> str:
        """The network's form: "+", the calling code and the national significant number."""
        return f"+{self.calling_code}{nsn}"

    def styled(self, pattern: str, nsn: int) -> str:
        digits, parts, at = str(nsn), {}, 0
        for n, width in enumerate(self.groups, 1):
            parts[f"g{n}"] = digits[at : at + width]
            at += width
        return pattern.format(cc=self.calling_code, nsn=nsn, **parts)


@dataclass(frozen=True)
class People:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]
    abbreviations: tuple[tuple[str, str], ...]
    address: str  # {house} {street}
    flat: str  # {flat} {line}
    titles: tuple[str, ...]
    email_domains: tuple[str, ...]
    company_domains: tuple[str, ...]


@dataclass(frozen=True)
class Market:
    name: str
    country: str
    imsi_prefix: str
    numbering: Numbering
    ids: Mapping[str, str]  # each system's id format: see IDS
    elements: Mapping[str, str]  # element type or site kind: format with {region}, {n}
    timestamps: Mapping[str, str]  # feed -> z | offset | naive
    layouts: Mapping[tuple[str, str, str | None], tuple[str, ...]]  # producer column orders
    regions: tuple[Region, ...]
    postcode: str
    postcode_letters: str
    people: People
    plans: tuple[Plan, ...]
    price_changes: tuple[PriceChange, ...]
    catalogue_since: date
    vat_rate: Decimal
    gl_accounts: Mapping[str, str]  # revenue stream (recurring and each service) -> GL account
    gl_by_segment: bool  # the GL posts each stream once per customer segment

    @property
    def region_index(self) -> dict[str, int]:
        return {region.code: i for i, region in enumerate(self.regions)}

    @property
    def plan_index(self) -> dict[str, int]:
        return {plan.code: i for i, plan in enumerate(self.plans)}

    def segment_plans(self, segment: str) -> tuple[list[int], list[float]]:
        """The plan indexes of a segment and their cumulative weights, for drawing."""
        chosen = [i for i, plan in enumerate(self.plans) if plan.segment == segment]
        return chosen, cumulative([self.plans[i].weight for i in chosen])

    def element(self, kind: str, region: str, n: int = 1) -> str:
        return self.elements[kind].format(region=region, n=n)

    def dearer_plan(self, code: str) -> str | None:
        """The next dearer plan of the same segment, if any: what a line provisioned on the
        wrong plan gets on the network while billing charges its own."""
        plan = self.plans[self.plan_index[code]]
        dearer = sorted(
            (
                p
                for p in self.plans
                if p.segment == plan.segment and p.monthly_fee > plan.monthly_fee
            ),
            key=lambda p: p.monthly_fee,
        )
        return dearer[0].code if dearer else None


_PLACEHOLDER = re.compile(r"\{(\w+)")


class _Reader:
    """Typed access to the file's keys, each error naming the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, reason: str) -> MarketError:
        return MarketError(f"market {self.path}: {key}: {reason}")

    def get(self, doc: Mapping[str, Any], key: str, kind: type, where: str = "") -> Any:
        name = f"{where}{key}"
        if key not in doc:
            raise self.fail(name, "missing")
        value = doc[key]
        if kind is str and isinstance(value, int | float | date):
            value = str(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            expected = getattr(kind, "__name__", "number")
            raise self.fail(name, f"expected {expected}, got {value!r}")
        return value

    def text_list(self, doc: Mapping[str, Any], key: str, where: str = "") -> tuple[str, ...]:
        values = self.get(doc, key, list, where)
        if not values or not all(isinstance(v, str) and v for v in values):
            raise self.fail(f"{where}{key}", "expected a non-empty list of texts")
        return tuple(values)

    def decimal(self, doc: Mapping[str, Any], key: str, where: str) -> Decimal:
        try:
            value = Decimal(self.get(doc, key, str, where))
        except InvalidOperation as exc:
            raise self.fail(f"{where}{key}", "not a decimal amount") from exc
        if value < 0:
            raise self.fail(f"{where}{key}", "must not be negative")
        return value

    def pattern(self, value: str, key: str, allowed: set[str]) -> str:
        used = set(_PLACEHOLDER.findall(value))
        if used - allowed:
            raise self.fail(key, f"unknown placeholder(s) {sorted(used - allowed)} in {value!r}")
        return value


def _numbering(r: _Reader, doc: Mapping[str, Any], country: str) -> Numbering:
    w = "numbering."
    groups = tuple(r.get(doc, "groups", list, w))
    first, size = r.get(doc, "mobile_first", int, w), r.get(doc, "mobile_size", int, w)
    if not groups or not all(isinstance(g, int) and g > 0 for g in groups):
        raise r.fail(f"{w}groups", "expected a list of positive digit counts")
    if len(str(first)) != sum(groups) or len(str(first + size - 1)) != sum(groups):
        raise r.fail(f"{w}mobile_first", f"numbers must have the {sum(groups)} digits of groups")
    names = {"cc", "nsn"} | {f"g{n}" for n in range(1, len(groups) + 1)}
    typed = []
    for n, entry in enumerate(r.get(doc, "typed", list, w)):
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int)):
            raise r.fail(f"{w}typed[{n}]", "expected [weight, pattern]")
        typed.append((entry[0], r.pattern(str(entry[1]), f"{w}typed[{n}]", names)))
    areas = r.text_list(doc, "landline_areas", w)
    return Numbering(
        calling_code=phonenumbers.country_code_for_region(country),
        mobile_first=first,
        mobile_size=size,
        groups=groups,
        typed=tuple(typed),
        mediation=r.pattern(r.get(doc, "mediation", str, w), f"{w}mediation", names),
        rating=r.pattern(r.get(doc, "rating", str, w), f"{w}rating", names),
        called_mobile_prefix=r.get(doc, "called_mobile_prefix", str, w),
        called_mobile_digits=r.get(doc, "called_mobile_digits", int, w),
        landline_areas=areas,
        landline_length=r.get(doc, "landline_length", int, w),
    )


def _plans(r: _Reader, doc: Mapping[str, Any]) -> tuple[Plan, ...]:
    plans = []
    for n, raw in enumerate(r.get(doc, "plans", list)):
        w = f"plans[{n}]."
        segment = r.get(raw, "segment", str, w)
        if segment not in SEGMENTS:
            raise r.fail(f"{w}segment", f"{segment!r} is not one of {', '.join(SEGMENTS)}")
        plans.append(
            Plan(
                code=r.get(raw, "code", str, w),
                name=r.get(raw, "name", str, w),
                segment=segment,
                weight=float(r.get(raw, "weight", int | float, w)),
                monthly_fee=r.decimal(raw, "fee", w),
                prices=tuple(r.decimal(raw, s, w) for s in SERVICES),  # type: ignore[arg-type]
            )
        )
    codes = [p.code for p in plans]
    if len(set(codes)) != len(codes):
        raise r.fail("plans", "plan codes must be unique")
    for segment in SEGMENTS:
        if not any(p.segment == segment for p in plans):
            raise r.fail("plans", f"no {segment} plan")
    return tuple(plans)


def _layouts(r: _Reader, doc: Mapping[str, Any]) -> dict[tuple[str, str, str | None], tuple]:
    """`layouts: {cdr.records.smsc: [...], billing.usage: [...]}`: producers' column orders."""
    layouts = {}
    for key in doc.get("layouts") or {}:
        parts = str(key).split(".")
        if len(parts) not in (2, 3):
            raise r.fail(f"layouts.{key}", "expected <source>.<entity>[.<element type>]")
        layouts[(parts[0], parts[1], parts[2] if len(parts) == 3 else None)] = r.text_list(
            doc["layouts"], key, "layouts."
        )
    return layouts


def load_market(name: str, directory: Path = MARKETS) -> Market:
    """The market file `<directory>/<name>.yaml`; a `MarketError` names what is wrong."""
    path = directory / f"{name}.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml")))
        raise MarketError(f"market {name!r}: no file {path} (known: {known})") from exc
    except yaml.YAMLError as exc:
        raise MarketError(f"market {path}: not valid YAML ({exc})") from exc
    r = _Reader(path)
    if not isinstance(doc, dict):
        raise r.fail("(top)", "expected a mapping")
    country = r.get(doc, "country", str).upper()
    if phonenumbers.country_code_for_region(country) == 0:
        raise r.fail("country", f"{country!r} is not an ISO 3166-1 alpha-2 country")
    regions = tuple(
        Region(
            code=r.get(raw, "code", str, f"regions[{n}]."),
            name=r.get(raw, "name", str, f"regions[{n}]."),
            weight=float(r.get(raw, "weight", int | float, f"regions[{n}].")),
            cities=tuple(
                (city, tuple(areas))
                for city, areas in r.get(raw, "cities", dict, f"regions[{n}].").items()
            ),
        )
        for n, raw in enumerate(r.get(doc, "regions", list))
    )
    elements = r.get(doc, "elements", dict)
    missing = sorted(set(ELEMENT_NAMES) - set(elements))
    if missing:
        raise r.fail("elements", f"missing {', '.join(missing)}")
    timestamps = r.get(doc, "timestamps", dict)
    for feed in FEEDS:
        if timestamps.get(feed) not in TIMESTAMP_STYLES:
            raise r.fail(f"timestamps.{feed}", f"expected one of {', '.join(TIMESTAMP_STYLES)}")
    ids = r.get(doc, "ids", dict)
    for kind, allowed in IDS.items():
        r.pattern(r.get(ids, kind, str, "ids."), f"ids.{kind}", allowed)
    gl_accounts = r.get(doc, "gl_accounts", dict)
    streams = {"recurring", *SERVICES}
    if set(gl_accounts) != streams:
        raise r.fail(
            "gl_accounts", f"expected one account for each of {', '.join(sorted(streams))}"
        )
    people = r.get(doc, "people", dict)
    w = "people."
    plans = _plans(r, doc)
    index = {p.code for p in plans}
    changes = []
    for n, raw in enumerate(doc.get("price_changes") or []):
        change = PriceChange(
            plan=r.get(raw, "plan", str, f"price_changes[{n}]."),
            service=r.get(raw, "service", str, f"price_changes[{n}]."),
            price=r.decimal(raw, "price", f"price_changes[{n}]."),
        )
        if change.plan not in index or change.service not in SERVICES:
            raise r.fail(f"price_changes[{n}]", "names an unknown plan or service")
        changes.append(change)
    since = doc.get("catalogue_since")
    if not isinstance(since, date):
        raise r.fail("catalogue_since", "expected a date YYYY-MM-DD")
    return Market(
        name=name,
        country=country,
        imsi_prefix=r.get(doc, "imsi_prefix", str),
        numbering=_numbering(r, r.get(doc, "numbering", dict), country),
        ids={k: str(v) for k, v in ids.items()},
        elements={k: str(v) for k, v in elements.items()},
        timestamps=dict(timestamps),
        layouts=_layouts(r, doc),
        regions=regions,
        postcode=r.get(doc, "postcode", str),
        postcode_letters=r.get(doc, "postcode_letters", str),
        people=People(
            first_names=r.text_list(people, "first_names", w),
            last_names=r.text_list(people, "last_names", w),
            streets=r.text_list(people, "streets", w),
            abbreviations=tuple(r.get(people, "abbreviations", dict, w).items()),
            address=r.pattern(r.get(people, "address", str, w), f"{w}address", {"house", "street"}),
            flat=r.pattern(r.get(people, "flat", str, w), f"{w}flat", {"flat", "line"}),
            titles=r.text_list(people, "titles", w),
            email_domains=r.text_list(people, "email_domains", w),
            company_domains=r.text_list(people, "company_domains", w),
        ),
        plans=plans,
        price_changes=tuple(changes),
        catalogue_since=since,
        vat_rate=r.decimal(doc, "vat_rate", ""),
        gl_accounts={k: str(v) for k, v in gl_accounts.items()},
        gl_by_segment=bool(doc.get("gl_by_segment", False)),
    )
