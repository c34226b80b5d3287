"""Score the revenue-assurance controls against the generator's ground truth.

Each injected incident claims the control exceptions that describe it (same control and
reason, same dimensions, inside its window, or the same lines), most specific incidents first
so that no exception is counted twice. An incident is detected when it claims at least one
exception; its impact error compares the claimed amount with the injected revenue impact.
Exceptions no incident claims are reported too: on a clean scenario there must be none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from psycopg import Connection

# incident kinds a revenue-assurance control should find, and how each claims exceptions
RA_KINDS = (
    "wrong_tariff",
    "mediation_replay",
    "unbilled_usage",
    "late_billing",
    "unbilled_provisioning",
    "subscription_mismatch",
    "gl_mismatch",
)
# lines first: their unbilled usage must not be claimed by a plan-wide unbilled incident
CLAIM_ORDER = (
    "unbilled_provisioning",
    "subscription_mismatch",
    "gl_mismatch",
    "mediation_replay",
    "late_billing",
    "wrong_tariff",
    "unbilled_usage",
)
VARIANT_REASONS = {
    "plan_mismatch": "plan_mismatch",
    "status_mismatch": "status_mismatch",
    "billed_not_on_network": "billed_not_on_network",
}


@dataclass(frozen=True)
class ControlException:
    control: str
    reason: str
    record_key: str
    msisdn: str | None
    event_date: date | None
    network_element_id: str | None
    plan_code: str | None
    service_type: str | None
    amount: Decimal


def fetch_exceptions(conn: Connection) -> list[ControlException]:
    rows = conn.execute(
        "select control, reason, record_key, msisdn, event_date, network_element_id, plan_code,"
        " service_type, amount from controls.ctl_exceptions"
    ).fetchall()
    return [ControlException(*r[:8], Decimal(r[8] or 0)) for r in rows]


def _days(incident: dict) -> tuple[date, date]:
    """The incident's window as event dates [first, last]."""
    start = datetime.fromisoformat(incident["window"]["start"])
    end = datetime.fromisoformat(incident["window"]["end"])
    # an exclusive midnight end does not reach into that day
    last = end.date() if end.time() != datetime.min.time() else end.date() - timedelta(days=1)
    return start.date(), max(start.date(), last)


def _matcher(incident: dict) -> Callable[[ControlException], bool]:
    kind, dims = incident["kind"], incident["dimensions"]
    first, last = _days(incident)

    def in_window(e: ControlException) -> bool:
        return e.event_date is not None and first <= e.event_date <= last

    def same(value: str | None, wanted: str | None) -> bool:
        return wanted is None or value == wanted

    if kind == "wrong_tariff":
        return lambda e: (
            e.control == "rating_accuracy"
            and same(e.plan_code, dims["plan_code"])
            and same(e.service_type, dims["service_type"])
            and in_window(e)
        )
    if kind in ("mediation_replay", "late_billing", "unbilled_usage"):
        reason = {
            "mediation_replay": "billed_twice",
            "late_billing": "billed_late",
            "unbilled_usage": "unbilled",
        }[kind]
        return lambda e: (
            e.control == "usage_completeness"
            and e.reason == reason
            and same(e.network_element_id, dims["network_element_id"])
            and same(e.plan_code, dims["plan_code"])
            and same(e.service_type, dims["service_type"])
            and in_window(e)
        )
    lines = set(incident.get("detail", {}).get("msisdns", []))
    if kind == "unbilled_provisioning":
        reasons = ("active_on_network_not_billed", "unbilled", "not_in_crm")
        return lambda e: e.msisdn in lines and e.reason in reasons
    if kind == "subscription_mismatch":
        reason = VARIANT_REASONS[incident["detail"]["variant"]]
        return lambda e: e.msisdn in lines and e.reason == reason
    if kind == "gl_mismatch":
        key = f"{incident['detail']['period']}/{incident['detail']['revenue_stream']}"
        return lambda e: e.control == "invoice_gl_tieout" and e.record_key == key
    raise ValueError(f"no control scores incident kind {kind!r}")


@dataclass
class IncidentScore:
    id: str
    kind: str
    injected_impact: Decimal
    detected_impact: Decimal
    exceptions: int

    @property
    def detected(self) -> bool:
        return self.exceptions > 0

    @property
    def impact_error(self) -> float:
        if self.injected_impact == 0:
            return 0.0 if self.detected_impact == 0 else 1.0
        return float(abs(self.detected_impact - self.injected_impact) / abs(self.injected_impact))


def score_incidents(
    incidents: Iterable[dict], exceptions: list[ControlException]
) -> tuple[list[IncidentScore], list[ControlException]]:
    scored = [i for i in incidents if i["kind"] in RA_KINDS]
    scored.sort(key=lambda i: (CLAIM_ORDER.index(i["kind"]), i["id"]))
    unclaimed = list(exceptions)
    results = []
    for incident in scored:
        matches = _matcher(incident)
        claimed = [e for e in unclaimed if matches(e)]
        claimed_ids = {id(e) for e in claimed}
        unclaimed = [e for e in unclaimed if id(e) not in claimed_ids]
        results.append(
            IncidentScore(
                incident["id"],
                incident["kind"],
                Decimal(incident["revenue_impact"]),
                sum((e.amount for e in claimed), Decimal(0)),
                len(claimed),
            )
        )
    return results, unclaimed


def score_controls(conn: Connection, truth: dict) -> dict:
    """`{"controls": {kind: {injected, detected, impact_error, ...}}, "unexplained": {...}}`."""
    results, unclaimed = score_incidents(truth["incidents"], fetch_exceptions(conn))
    by_kind: dict[str, dict] = {}
    for kind in RA_KINDS:
        mine = [r for r in results if r.kind == kind]
        if not mine:
            continue
        by_kind[kind] = {
            "injected": len(mine),
            "detected": sum(r.detected for r in mine),
            "impact_error": round(max(r.impact_error for r in mine), 6),
            "impact_injected": str(sum((r.injected_impact for r in mine), Decimal(0))),
            "impact_detected": str(sum((r.detected_impact for r in mine), Decimal(0))),
            "incidents": {
                r.id: {
                    "detected": r.detected,
                    "exceptions": r.exceptions,
                    "impact_injected": str(r.injected_impact),
                    "impact_detected": str(r.detected_impact),
                    "impact_error": round(r.impact_error, 6),
                }
                for r in mine
            },
        }
    unexplained: dict[str, int] = {}
    for e in unclaimed:
        key = f"{e.control}/{e.reason}"
        unexplained[key] = unexplained.get(key, 0) + 1
    return {"controls": by_kind, "unexplained_exceptions": unexplained}
