"""Scenario files: the world to generate (seed, sizes, window) and the defects to inject.

A scenario is edited by hand, so every value is checked before anything is written, and an error
names the file, the defect and the reason. Defects are plain frozen dataclasses, one per kind;
their fields are the YAML parameters, so the class is the documentation of what a kind takes.
Times are relative to the window (`day` 1 is its first day), so `--start` and `--days` overrides
keep a scenario meaningful; a defect that falls outside a shortened window is skipped, not failed.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar, Literal, Union, get_args, get_origin, get_type_hints

import yaml

from sdp.contracts import DECIMAL_PLACES, load_contract
from sdp.generator.clock import DAY, HOUR
from sdp.generator.market import Market, MarketError, load_market
from sdp.operator import FILE_VARIABLE, OperatorProfile, ProfileError, load_profile

Service = Literal["voice", "sms", "data"]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ScenarioError(ValueError):
    """A scenario that cannot be generated; the message names the file and the defect."""


@dataclass(frozen=True, kw_only=True)
class Defect:
    kind: ClassVar[str]
    id: str

    def check(self, market: Market) -> None:
        """Rules beyond the field types; raises ValueError with the reason."""

    def first_day(self) -> int:
        """1-based window day the defect starts on: after the window it is skipped."""
        return 1


@dataclass(frozen=True, kw_only=True)
class OnDay(Defect):
    day: int

    def check(self, market: Market) -> None:
        super().check(market)
        if self.day < 1:
            raise ValueError("day counts from 1, the window's first day")

    def first_day(self) -> int:
        return self.day


@dataclass(frozen=True, kw_only=True)
class Windowed(OnDay):
    """A time window: `start` (HH:MM, quoted) on `day`, lasting `hours` (may cross midnight)."""

    start: str
    hours: float

    def check(self, market: Market) -> None:
        super().check(market)
        if not _CLOCK.match(self.start):
            raise ValueError(f"start {self.start!r} is not a time of day HH:MM")
        if self.hours <= 0:
            raise ValueError("hours must be positive")

    def bounds(self) -> tuple[int, int]:
        """Seconds from the window's start: [begin, end)."""
        hh, mm = (int(part) for part in self.start.split(":"))
        begin = (self.day - 1) * DAY + hh * HOUR + mm * 60
        return begin, begin + round(self.hours * HOUR)


def _known_plan(market: Market, code: str | None) -> None:
    if code is not None and code not in market.plan_index:
        known = ", ".join(market.plan_index)
        raise ValueError(f"plan_code {code!r} is not in market {market.name}'s catalogue ({known})")


def _known_region(market: Market, code: str) -> None:
    if code not in market.region_index:
        known = ", ".join(market.region_index)
        raise ValueError(f"region {code!r} is not one of market {market.name}'s ({known})")


def _fraction(value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError("fraction must be in (0, 1]")


@dataclass(frozen=True, kw_only=True)
class CdrDrop(Windowed):
    """All CDRs of one mediated element lost in a window, with a critical alarm around it."""

    kind = "cdr_drop"
    network_element_id: str


@dataclass(frozen=True, kw_only=True)
class WrongTariff(OnDay):
    """Billing rates one plan and service at `unit_price` from the start of `day`."""

    kind = "wrong_tariff"
    plan_code: str
    service_type: Service
    unit_price: Decimal

    def check(self, market: Market) -> None:
        super().check(market)
        _known_plan(market, self.plan_code)
        if self.unit_price < 0:
            raise ValueError("unit_price must not be negative")


@dataclass(frozen=True, kw_only=True)
class MediationReplay(Windowed):
    """Mediation re-sends a `fraction` of one element's CDRs of the window; billing rates them
    again."""

    kind = "mediation_replay"
    network_element_id: str
    fraction: float = 1.0

    def check(self, market: Market) -> None:
        super().check(market)
        _fraction(self.fraction)


@dataclass(frozen=True, kw_only=True)
class UsageSelector(Windowed):
    """CDRs of the window, narrowed by element, plan and/or service (at least one of the first
    two, so the defect has a place)."""

    network_element_id: str | None = None
    plan_code: str | None = None
    service_type: Service | None = None

    def check(self, market: Market) -> None:
        super().check(market)
        if self.network_element_id is None and self.plan_code is None:
            raise ValueError("give network_element_id and/or plan_code")
        _known_plan(market, self.plan_code)


@dataclass(frozen=True, kw_only=True)
class UnbilledUsage(UsageSelector):
    """Billing never receives these CDRs: no usage row."""

    kind = "unbilled_usage"


@dataclass(frozen=True, kw_only=True)
class LateBilling(UsageSelector):
    """A `fraction` of the selected CDRs is rated `delay_hours` (up to +25 %) after the event."""

    kind = "late_billing"
    delay_hours: float
    fraction: float = 1.0

    def check(self, market: Market) -> None:
        super().check(market)
        _fraction(self.fraction)
        if self.delay_hours <= 24:
            raise ValueError("delay_hours must exceed 24: that is what makes usage late")


@dataclass(frozen=True, kw_only=True)
class UnbilledProvisioning(Defect):
    """`lines` lines on the network (provisioned, with traffic) that billing does not carry
    (`missing_from: billing`) or that neither CRM nor billing knows (`crm_and_billing`).
    Active before the window, or activated on `day` when given."""

    kind = "unbilled_provisioning"
    region: str
    plan_code: str
    lines: int
    missing_from: Literal["billing", "crm_and_billing"] = "billing"
    day: int | None = None

    def check(self, market: Market) -> None:
        _known_region(market, self.region)
        _known_plan(market, self.plan_code)
        if self.lines < 1:
            raise ValueError("lines must be at least 1")
        if self.day is not None and self.day < 1:
            raise ValueError("day counts from 1, the window's first day")

    def first_day(self) -> int:
        return self.day or 1


@dataclass(frozen=True, kw_only=True)
class SubscriptionMismatch(Defect):
    """Lines of a region where the systems disagree: the network has another plan, CRM says
    suspended while the line lives on, or billing bills a line the network never had."""

    kind = "subscription_mismatch"
    region: str
    plan_mismatch: int = 0
    status_mismatch: int = 0
    billed_not_on_network: int = 0

    def check(self, market: Market) -> None:
        _known_region(market, self.region)
        counts = (self.plan_mismatch, self.status_mismatch, self.billed_not_on_network)
        if min(counts) < 0 or sum(counts) == 0:
            raise ValueError(
                "give a positive count for plan_mismatch, status_mismatch or billed_not_on_network"
            )


@dataclass(frozen=True, kw_only=True)
class GlMismatch(Defect):
    """The GL posting of one revenue stream for an invoiced period is `missing` or off by
    `delta` (`mode: amount`). `period` defaults to the first invoiced one."""

    kind = "gl_mismatch"
    revenue_stream: Literal["voice", "sms", "data", "recurring"]
    mode: Literal["missing", "amount"]
    delta: Decimal | None = None
    period: str | None = None

    def check(self, market: Market) -> None:
        if self.mode == "amount" and (self.delta is None or self.delta == 0):
            raise ValueError("mode amount needs a non-zero delta")
        if self.mode == "missing" and self.delta is not None:
            raise ValueError("mode missing takes no delta")
        if self.period is not None and not _PERIOD.match(self.period):
            raise ValueError(f"period {self.period!r} is not YYYY-MM")


@dataclass(frozen=True, kw_only=True)
class DuplicateCustomers(Defect):
    """CRM holds `count` customers twice; the second record, with typos and another phone
    format, is created on `day` (default: before the window, in the snapshot)."""

    kind = "duplicate_customers"
    count: int
    day: int | None = None

    def check(self, market: Market) -> None:
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.day is not None and self.day < 1:
            raise ValueError("day counts from 1, the window's first day")

    def first_day(self) -> int:
        return self.day or 1


@dataclass(frozen=True, kw_only=True)
class BadContactData(OnDay):
    """A burst of CRM updates on `day` with invalid emails and malformed phone numbers."""

    kind = "bad_contact_data"
    emails: int = 0
    phones: int = 0

    def check(self, market: Market) -> None:
        super().check(market)
        if min(self.emails, self.phones) < 0 or self.emails + self.phones == 0:
            raise ValueError("give a positive count of emails and/or phones")


def _known_entity(source: str, entity: str) -> None:
    try:
        load_contract().entity(source, entity)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from exc


def _element_feed(source: str, entity: str, element: str | None, required: bool) -> None:
    if element is not None and (source, entity) != ("cdr", "records"):
        raise ValueError("network_element_id only selects a feed of cdr.records")
    if required and element is None and (source, entity) == ("cdr", "records"):
        raise ValueError("cdr.records has one feed per mediated element: give network_element_id")


@dataclass(frozen=True, kw_only=True)
class LateBatch(OnDay):
    """One day's batch of an entity (of one element's mediation for CDRs) lands late."""

    kind = "late_batch"
    source: str
    entity: str
    delay_hours: float
    network_element_id: str | None = None

    def check(self, market: Market) -> None:
        super().check(market)
        _known_entity(self.source, self.entity)
        _element_feed(self.source, self.entity, self.network_element_id, required=True)
        if self.delay_hours <= 0:
            raise ValueError("delay_hours must be positive")


@dataclass(frozen=True, kw_only=True)
class SchemaDrift(OnDay):
    """From `day` a feed renames optional columns (`rename: {old: new}`) and adds columns
    (`add: {name: value}`): still loadable, the renamed column arrives empty."""

    kind = "schema_drift"
    source: str
    entity: str
    rename: dict[str, str] = field(default_factory=dict)
    add: dict[str, str] = field(default_factory=dict)
    network_element_id: str | None = None

    def check(self, market: Market) -> None:
        super().check(market)
        _known_entity(self.source, self.entity)
        _element_feed(self.source, self.entity, self.network_element_id, required=False)
        if not self.rename and not self.add:
            raise ValueError("give rename and/or add")
        entity = load_contract().entity(self.source, self.entity)
        for old in self.rename:
            if old not in entity.column_names:
                raise ValueError(f"rename: {old!r} is not a column of {self.source}.{self.entity}")
            if entity.column(old).required:
                raise ValueError(f"rename: {old!r} is required; the batch would be rejected")
        new_names = [*self.rename.values(), *self.add]
        clash = [n for n in new_names if n in entity.column_names]
        if clash or len(set(new_names)) != len(new_names):
            raise ValueError(f"new column names must be new and distinct: {new_names}")


DEFECT_KINDS: dict[str, type[Defect]] = {
    kind.kind: kind
    for kind in (
        CdrDrop,
        WrongTariff,
        MediationReplay,
        UnbilledUsage,
        LateBilling,
        UnbilledProvisioning,
        SubscriptionMismatch,
        GlMismatch,
        DuplicateCustomers,
        BadContactData,
        LateBatch,
        SchemaDrift,
    )
}


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    seed: int
    start: date
    days: int
    customers: int
    traffic: float
    defects: tuple[Defect, ...]
    market: Market
    # the operator whose feeds these are: the scenario's own `operator:` file, else the
    # platform's profile
    profile: OperatorProfile
    operator_file: Path | None

    def error(self, defect: Defect, reason: str) -> ScenarioError:
        return ScenarioError(f"{self.path}: defect {defect.id!r} ({defect.kind}): {reason}")


def _convert(value: Any, hint: Any, name: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in get_args(hint) if a is not type(None)]
        return _convert(value, inner, name)
    if origin is Literal:
        if value not in get_args(hint):
            raise ValueError(f"{name} must be one of {', '.join(map(str, get_args(hint)))}")
        return value
    if origin is dict:
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise ValueError(f"{name} must be a mapping of names to values")
        return {k: _convert(v, str, f"{name}.{k}") for k, v in value.items()}
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, not {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, not {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            hint_text = " (quote times: '14:00')" if isinstance(value, int) else ""
            raise ValueError(f"{name} must be a string, not {value!r}{hint_text}")
        return value
    if hint is Decimal:
        return _decimal(value, name)
    raise TypeError(f"no converter for {hint!r}")


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} must be a decimal number, not {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{name} {value!r} is not a decimal number") from exc
    exponent = number.as_tuple().exponent
    if not number.is_finite() or (isinstance(exponent, int) and exponent < -DECIMAL_PLACES):
        raise ValueError(f"{name} must be finite with at most {DECIMAL_PLACES} decimal places")
    return number


def _defect(
    raw: Any, position: int, ordinals: dict[str, int], path: Path, market: Market
) -> Defect:
    where = f"{path}: defect #{position}"
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: a defect is a mapping with a kind")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in DEFECT_KINDS:
        raise ScenarioError(
            f"{where}: unknown defect kind {kind!r} (known: {', '.join(DEFECT_KINDS)})"
        )
    cls = DEFECT_KINDS[kind]
    ordinals[kind] = ordinals.get(kind, 0) + 1
    defect_id = raw.get("id", f"{kind}-{ordinals[kind]}")
    where = f"{path}: defect {defect_id!r} ({kind})"
    if not isinstance(defect_id, str) or not defect_id:
        raise ScenarioError(f"{where}: id must be a non-empty string")
    hints = get_type_hints(cls)
    params = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(params) - {"kind"})
    if unknown:
        raise ScenarioError(f"{where}: unknown parameter(s) {', '.join(unknown)}")
    values: dict[str, Any] = {"id": defect_id}
    try:
        for name, spec in params.items():
            if name == "id":
                continue
            if name not in raw:
                if spec.default is MISSING and spec.default_factory is MISSING:
                    raise ValueError(f"missing parameter {name}")
                continue
            values[name] = _convert(raw[name], hints[name], name)
        defect = cls(**values)
        defect.check(market)
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    return defect


def _top(document: Mapping[str, Any], key: str, hint: Any, path: Path) -> Any:
    if key not in document:
        raise ScenarioError(f"{path}: missing {key}")
    try:
        return _convert(document[key], hint, key)
    except ValueError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


def _profile(document: Mapping[str, Any], path: Path) -> tuple[Path | None, OperatorProfile]:
    """The scenario's operator: its `operator:` file (relative to the scenario; the
    environment's SDP_OPERATOR_* do not apply, the file describes that operator), else the
    platform's profile."""
    named = document.get("operator")
    if named is None:
        return None, load_profile()
    if not isinstance(named, str):
        raise ScenarioError(f"{path}: operator must be the path of an operator profile file")
    file = (path.parent / named).resolve()
    if not file.is_file():
        raise ScenarioError(f"{path}: operator {named!r}: no file {file}")
    try:
        return file, load_profile({FILE_VARIABLE: str(file)})
    except ProfileError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


def _market(document: Mapping[str, Any], path: Path, profile: OperatorProfile) -> Market:
    """The scenario's `market:`, by default the one of the profile's country."""
    name = document.get("market", profile.country.lower())
    try:
        market = load_market(str(name))
    except MarketError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    if market.country != profile.country:
        raise ScenarioError(
            f"{path}: market {name} is of {market.country} but the operator profile's country "
            f"is {profile.country} (from {profile.sources.get('country', '?')})"
        )
    return market


def load_scenario(path: Path) -> Scenario:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read the scenario: {exc}") from exc
    if not isinstance(document, Mapping):
        raise ScenarioError(f"{path}: a scenario is a mapping (name, seed, start, ...)")
    known = {
        "name", "description", "seed", "start", "days", "customers", "traffic", "defects",
        "market", "operator",
    }  # fmt: skip
    unknown = sorted(set(document) - known)
    if unknown:
        raise ScenarioError(f"{path}: unknown key(s) {', '.join(unknown)}")
    start = document.get("start")
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError:
            start = None
    if not isinstance(start, date):
        raise ScenarioError(f"{path}: start must be a date YYYY-MM-DD")
    raw_defects = document.get("defects") or []
    if not isinstance(raw_defects, list):
        raise ScenarioError(f"{path}: defects must be a list")
    operator_file, profile = _profile(document, path)
    market = _market(document, path, profile)
    ordinals: dict[str, int] = {}
    defects = tuple(_defect(raw, n, ordinals, path, market) for n, raw in enumerate(raw_defects, 1))
    ids = [d.id for d in defects]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ScenarioError(f"{path}: defect ids must be unique: {', '.join(repeated)}")
    scenario = Scenario(
        name=_top(document, "name", str, path),
        path=path,
        seed=_top(document, "seed", int, path),
        start=start,
        days=_top(document, "days", int, path),
        customers=_top(document, "customers", int, path),
        traffic=_top(document, "traffic", float, path),
        defects=defects,
        market=market,
        profile=profile,
        operator_file=operator_file,
    )
    check_sizes(scenario)
    return scenario


def check_sizes(scenario: Scenario) -> None:
    """Sizes are checked again after command-line overrides."""
    if scenario.days < 1:
        raise ScenarioError(f"{scenario.path}: days must be at least 1")
    if scenario.customers < 10:
        raise ScenarioError(f"{scenario.path}: customers must be at least 10")
    if scenario.traffic <= 0:
        raise ScenarioError(f"{scenario.path}: traffic must be positive")
