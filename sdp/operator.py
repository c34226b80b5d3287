"""The operator profile: everything that differs between one operator's systems and another's.

Country, currency, time zone and the billing conventions are read here and nowhere else: from
environment variables, else from a YAML file (`operator.yaml` in the project, or the file
`SDP_OPERATOR_FILE` names). The warehouse session, the loader, dbt (as vars), the Dagster
partitions and schedules, the phone-number normalization and the reports all take them from the
`OperatorProfile` this module returns, so onboarding an operator is writing one file. Plan codes,
region and element names are not part of it: those vocabularies come from the feeds themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = PROJECT_ROOT / "operator.yaml"
FILE_VARIABLE = "SDP_OPERATOR_FILE"


class ProfileError(ValueError):
    """The profile cannot be used; the message names the setting, where it came from and why."""


@dataclass(frozen=True)
class Setting:
    key: str  # in operator.yaml
    variable: str  # in the environment, which wins over the file
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "country",
        "SDP_OPERATOR_COUNTRY",
        "home country (ISO 3166-1 alpha-2): national-format numbers are read as this country's",
    ),
    Setting("currency", "SDP_OPERATOR_CURRENCY", "currency amounts are reported in (ISO 4217)"),
    Setting(
        "timezone",
        "SDP_OPERATOR_TIMEZONE",
        "IANA time zone: a timestamp without an offset is local time here, and days, months "
        "and daily partitions are this zone's",
    ),
    Setting(
        "late_billing_hours",
        "SDP_LATE_BILLING_HOURS",
        "usage rated more than this many hours after the event is billed late",
    ),
    Setting(
        "bill_run_cutoff_hour",
        "SDP_BILL_RUN_CUTOFF_HOUR",
        "usage rated before this hour (local) of a bill run's issue date is on that run's invoices",
    ),
    Setting(
        "invoice_usage_by",
        "SDP_INVOICE_USAGE_BY",
        "which usage a bill run invoices: event_time (events of the period rated before the "
        "cutoff; the default) or rated_at (usage rated in the period, whatever its event's day)",
    ),
    Setting("locale", "SDP_OPERATOR_LOCALE", "locale amounts are written in (e.g. en_GB, fr_FR)"),
)
# settings with a default: the others must be given
DEFAULTS = {"locale": "en", "invoice_usage_by": "event_time"}
INVOICE_USAGE_BY = ("event_time", "rated_at")


@dataclass(frozen=True)
class OperatorProfile:
    country: str
    currency: str
    timezone: str
    late_billing_hours: int
    bill_run_cutoff_hour: int
    invoice_usage_by: str = DEFAULTS["invoice_usage_by"]
    locale: str = DEFAULTS["locale"]
    # setting key -> where its value came from ("SDP_OPERATOR_COUNTRY", "operator.yaml", ...)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def calling_code(self) -> int:
        """The home country's international calling code (44 for GB, 1 for US)."""
        import phonenumbers

        return phonenumbers.country_code_for_region(self.country)

    def dbt_vars(self) -> dict[str, str | int]:
        """What dbt models read through `var()`: every dbt invocation passes these."""
        return {
            "operator_country": self.country,
            "operator_timezone": self.timezone,
            "late_billing_hours": self.late_billing_hours,
            "bill_run_cutoff_hour": self.bill_run_cutoff_hour,
            "invoice_usage_by": self.invoice_usage_by,
        }

    def money(self, amount: Decimal | float | int) -> str:
        """An amount in the operator's currency and locale: £1,234.50, 1 234,50 €."""
        from babel.numbers import format_currency

        return format_currency(amount, self.currency, locale=self.locale)


def _read_file(path: Path) -> dict[str, object]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"operator profile {path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(f"operator profile {path}: not valid YAML ({exc})".strip()) from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ProfileError(f"operator profile {path}: expected a mapping of settings")
    known = {s.key for s in SETTINGS}
    unknown = sorted(str(k) for k in loaded if k not in known)
    if unknown:
        raise ProfileError(
            f"operator profile {path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(s.key for s in SETTINGS)}"
        )
    return loaded


def _country(value: str, where: str) -> str:
    import phonenumbers

    code = value.strip().upper()
    if len(code) != 2 or phonenumbers.country_code_for_region(code) == 0:
        raise ProfileError(f"{where}: {value!r} is not an ISO 3166-1 alpha-2 country (e.g. GB, FR)")
    return code


def _currency(value: str, where: str) -> str:
    from babel.numbers import list_currencies

    code = value.strip().upper()
    if code not in list_currencies():
        raise ProfileError(f"{where}: {value!r} is not an ISO 4217 currency code (e.g. GBP, EUR)")
    return code


def _timezone(value: str, where: str) -> str:
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ProfileError(
            f"{where}: {value!r} is not an IANA time zone (e.g. Europe/Paris, UTC)"
        ) from exc
    return name


def _hours(value: str, where: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ProfileError(f"{where}: {value!r} is not a whole number of hours") from exc
    if not low <= number <= high:
        raise ProfileError(f"{where}: {number} is outside {low}..{high}")
    return number


def _choice(value: str, where: str, choices: tuple[str, ...]) -> str:
    if value.strip() not in choices:
        raise ProfileError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value.strip()


def _locale(value: str, where: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value.strip())
    except (UnknownLocaleError, ValueError) as exc:
        raise ProfileError(f"{where}: {value!r} is not a known locale (e.g. en_GB, fr_FR)") from exc
    return value.strip()


def load_profile(env: Mapping[str, str] | None = None) -> OperatorProfile:
    """The profile from the environment over the file; a `ProfileError` names what is wrong."""
    env = os.environ if env is None else env
    path = Path(env.get(FILE_VARIABLE) or DEFAULT_FILE).expanduser()
    from_file: dict[str, object] = {}
    if path.exists() or env.get(FILE_VARIABLE):
        from_file = _read_file(path)
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        if env.get(setting.variable):
            values[setting.key], sources[setting.key] = env[setting.variable], setting.variable
        elif from_file.get(setting.key) is not None:
            values[setting.key], sources[setting.key] = str(from_file[setting.key]), str(path)
    missing = [s for s in SETTINGS if s.key not in values and s.key not in DEFAULTS]
    if missing:
        names = ", ".join(f"{s.variable} (or `{s.key}:` in {path})" for s in missing)
        raise ProfileError(f"operator profile incomplete: set {names}")

    def where(key: str) -> str:
        return f"operator profile {key} from {sources[key]}"

    return OperatorProfile(
        country=_country(values["country"], where("country")),
        currency=_currency(values["currency"], where("currency")),
        timezone=_timezone(values["timezone"], where("timezone")),
        late_billing_hours=_hours(
            values["late_billing_hours"], where("late_billing_hours"), 0, 24 * 90
        ),
        bill_run_cutoff_hour=_hours(
            values["bill_run_cutoff_hour"], where("bill_run_cutoff_hour"), 0, 23
        ),
        invoice_usage_by=(
            _choice(values["invoice_usage_by"], where("invoice_usage_by"), INVOICE_USAGE_BY)
            if "invoice_usage_by" in values
            else DEFAULTS["invoice_usage_by"]
        ),
        locale=(
            _locale(values["locale"], where("locale")) if "locale" in values else DEFAULTS["locale"]
        ),
        sources=sources,
    )
