"""Soda Core (SodaCL v3) scans of the warehouse, one dataset at a time.

`soda/configuration.yml` declares one data source per schema (`warehouse_<schema>`, so that
schema checks see their tables) reading the warehouse from `SDP_WAREHOUSE_*`;
`soda/checks/<schema>.yml` holds the checks of every dataset in that schema, each with a `name`
a person reads in Dagster and, where a failure would make downstream numbers wrong,
`attributes: {blocking: true}`. The same files run on their own with `soda scan` (README).

Here the configuration is read as YAML and the warehouse's values put in after parsing (Soda's
own `${VAR}` substitution is textual and breaks on passwords with YAML characters), and a scan
yields one outcome per declared check: a check Soda could not evaluate is left out of Soda's
results, so it is reported here as an error with Soda's error log, never silently dropped.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from psycopg import Connection

from sdp.operator import load_profile
from sdp.quality.store import SCHEMA, record_event
from sdp.runtime.services import warehouse_parts

SODA_DIR = Path(__file__).resolve().parents[2] / "soda"
CHECKS_DIR = SODA_DIR / "checks"
CONFIGURATION = SODA_DIR / "configuration.yml"
_SECTION = re.compile(r"^checks for ([a-z_][a-z0-9_]*)$")
_VARIABLE = re.compile(r"\$\{\s*([A-Z_][A-Z0-9_]*)\s*\}")
# scan variables lose to environment variables of the same name: keep these names unlikely
NOW_VARIABLE = "NOW"
DAY_VARIABLE = "SDP_DQ_DAY"


class SodaCheckError(ValueError):
    """A SodaCL file the platform cannot use: the message names the file and the check."""


@dataclass(frozen=True)
class SodaCheck:
    dataset: str  # "<schema>.<table>"
    name: str  # what a person reads (SodaCL `name:`)
    definition: str  # the SodaCL line, e.g. "duplicate_count(cdr_id) = 0"
    config: dict
    severity: str  # "error" when the check can fail, "warn" when it can only warn
    blocking: bool

    @property
    def slug(self) -> str:
        """A Dagster check name: letters, digits and underscores."""
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")

    @property
    def threshold(self) -> str:
        parts = [
            f"{level}: {self.config[level]}" for level in ("warn", "fail") if level in self.config
        ]
        return "; ".join(parts) or self.definition


def _severity(definition: str, config: dict) -> str:
    if "warn" in config and "fail" not in config:
        return "warn"
    return "error"


def load_checks(checks_dir: Path = CHECKS_DIR) -> dict[str, list[SodaCheck]]:
    """Every declared check, by dataset (`<schema>.<table>`, the schema named by the file)."""
    found: dict[str, list[SodaCheck]] = {}
    for path in sorted(checks_dir.glob("*.yml")):
        schema = path.stem
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise SodaCheckError(f"{path}: not YAML: {exc}") from exc
        for header, checks in document.items():
            match = _SECTION.match(str(header))
            if not match:
                raise SodaCheckError(f"{path}: section {header!r} is not 'checks for <table>'")
            dataset = f"{schema}.{match.group(1)}"
            names: set[str] = set()
            for entry in checks or []:
                definition, config = (
                    next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
                )
                config = config or {}
                name = config.get("name")
                if not name:
                    raise SodaCheckError(f"{path}: {dataset}: check {definition!r} has no name")
                check = SodaCheck(
                    dataset,
                    name,
                    str(definition),
                    config,
                    _severity(str(definition), config),
                    bool((config.get("attributes") or {}).get("blocking", False)),
                )
                if check.slug in names:
                    raise SodaCheckError(f"{path}: {dataset}: two checks named {check.slug!r}")
                names.add(check.slug)
                found.setdefault(dataset, []).append(check)
    return found


def configuration(url: str, config_file: Path = CONFIGURATION) -> str:
    """The data sources of `soda/configuration.yml` with this warehouse's values, as JSON."""
    values = warehouse_parts(url)
    document = yaml.safe_load(config_file.read_text())

    def fill(value):
        if isinstance(value, str):
            whole = _VARIABLE.fullmatch(value.strip())
            if whole:
                if whole.group(1) not in values:
                    raise SodaCheckError(f"{config_file}: unknown variable ${{{whole.group(1)}}}")
                return values[whole.group(1)]
        return value

    filled = {
        section: {key: fill(v) for key, v in body.items()} for section, body in document.items()
    }
    for body in filled.values():
        if "port" in body:
            body["port"] = int(body["port"])
    return json.dumps(filled)


@dataclass(frozen=True)
class CheckOutcome:
    check: SodaCheck
    outcome: str  # pass, warn, fail, error
    value: float | None
    detail: str  # Soda's diagnostics or error, for a person


def _value(diagnostics: dict) -> float | None:
    value = diagnostics.get("value")
    if isinstance(value, int | float):
        if diagnostics.get("measure") == "time":  # freshness comes in milliseconds
            return round(value / 3_600_000, 2)
        return float(value)
    return None


def _detail(diagnostics: dict) -> str:
    kept = {k: v for k, v in diagnostics.items() if k not in ("blocks", "value")}
    return json.dumps(kept, default=str) if kept else ""


def scan_dataset(
    url: str, dataset: str, checks: list[SodaCheck], partition_end: date | None = None
) -> list[CheckOutcome]:
    """Run one dataset's checks; `partition_end` (the last partition day) sets Soda's NOW to the
    end of that day, so freshness is judged against the partition, not the wall clock."""
    os.environ.setdefault("OTEL_SDK_DISABLED", "true")  # Soda's telemetry: nothing leaves
    os.environ["PGTZ"] = load_profile().timezone  # its sessions keep the operator's time too
    from soda.scan import Scan

    schema, table = dataset.split(".", 1)
    scan = Scan()
    scan.set_scan_definition_name(f"sdp_{schema}_{table}")
    if partition_end is not None:
        scan.add_variables(
            {
                # the end of the operator's day
                NOW_VARIABLE: datetime.combine(
                    partition_end + timedelta(days=1), time(0), load_profile().zone
                ).isoformat(),
                DAY_VARIABLE: partition_end.isoformat(),
            }
        )
    scan.add_configuration_yaml_str(configuration(url))
    scan.set_data_source_name(f"warehouse_{schema}")
    body = [
        {c.definition: {**c.config, "samples limit": 0}}
        if c.definition != "schema"
        else {c.definition: c.config}
        for c in checks
    ]
    scan.add_sodacl_yaml_str(yaml.safe_dump({f"checks for {table}": body}), file_name=dataset)
    scan.execute()
    results = {c["name"]: c for c in scan.get_scan_results().get("checks", [])}
    errors = scan.get_error_logs_text() or "Soda did not evaluate this check"
    outcomes = []
    for check in checks:
        found = results.get(check.name)
        if found is None or found.get("outcome") not in ("pass", "warn", "fail"):
            outcomes.append(CheckOutcome(check, "error", None, errors[-2000:]))
            continue
        diagnostics = found.get("diagnostics") or {}
        outcomes.append(
            CheckOutcome(check, found["outcome"], _value(diagnostics), _detail(diagnostics))
        )
    return outcomes


def record_outcomes(
    conn: Connection, outcomes: list[CheckOutcome], partition_end: date | None
) -> str:
    """Append a scan's outcomes to `quality.check_results`; returns the scan id."""
    scan_id = uuid.uuid4().hex
    with conn.transaction():
        conn.cursor().executemany(
            f"insert into {SCHEMA}.check_results (scan_id, dataset, check_name, definition,"
            " partition_date, outcome, measured_value, threshold, severity)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    scan_id,
                    o.check.dataset,
                    o.check.slug,
                    o.check.definition,
                    partition_end,
                    o.outcome,
                    o.value,
                    o.check.threshold,
                    o.check.severity,
                )
                for o in outcomes
            ],
        )
        for o in outcomes:
            if o.outcome != "pass":  # the seed's quality events: a rule broke on a dataset
                record_event(
                    conn,
                    f"check_{o.outcome}",
                    o.check.dataset,
                    partition_end,
                    {
                        "scan_id": scan_id,
                        "check": o.check.slug,
                        "name": o.check.name,
                        "definition": o.check.definition,
                        "measured_value": o.value,
                        "threshold": o.check.threshold,
                        "severity": o.check.severity,
                    },
                )
    return scan_id
