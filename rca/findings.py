"""From symptoms to ranked causes: the findings an analyst starts the day with.

Three kinds of symptom, each read from what the warehouse already holds:

- leaks and over-billing: the controls' exceptions, grouped by what they say went wrong
  (never billed, billed twice, billed late, mis-rated, lines off billing, plans that disagree,
  GL short). Attribution (Adtributor) against the revenue the rating rule expects says *where*
  the exceptions concentrate: one finding per place of the winning set, its window from the
  exceptions there;
- network symptoms: an element's hourly CDR volume falling far under its usual level for the
  same hours; the OSS topology and the alarms say which element's fault explains it;
- feed symptoms: batches that landed late or changed shape (`raw._loads`);
- the anomalies the quality history flagged: each is explained by the findings above that touch
  its place and day, the most upstream first (network, then feeds, then controls).

Each finding lists causes best first, with evidence and a recommendation. A feed symptom on a
raw asset upstream of a leak's control (the lineage) at the same place and day outranks the
leak's own reading: fixing the feed fixes the mart.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from scipy.stats import poisson

from rca.attribution import Attribution, attribute
from rca.graph import SEVERITY_WEIGHT, alarm_suspects, explain_in_topology, topology_graph
from rca.recommend import recommend

DIMENSIONS = ("network_element_id", "region", "plan_code", "service_type")
# what a control's exception says happened, as a cause kind
KIND_BY_REASON = {
    ("usage_completeness", "unbilled"): "unbilled_usage",
    ("usage_completeness", "billed_twice"): "mediation_replay",
    ("usage_completeness", "billed_late"): "late_billing",
    ("subscription_reconciliation", "active_on_network_not_billed"): "unbilled_provisioning",
    ("subscription_reconciliation", "not_in_crm"): "unbilled_provisioning",
    ("subscription_reconciliation", "plan_mismatch"): "subscription_mismatch",
    ("subscription_reconciliation", "status_mismatch"): "subscription_mismatch",
    ("subscription_reconciliation", "billed_not_on_network"): "subscription_mismatch",
}
KIND_BY_CONTROL = {"rating_accuracy": "wrong_tariff", "invoice_gl_tieout": "gl_mismatch"}
# a plan two systems disagree on cannot say where the disagreement is
NOT_A_PLACE = {"subscription_mismatch": {"plan_code"}}
DROP_RATIO = 0.4  # an hour under 40 % of its usual volume is a drop
MIN_USUAL = 5.0  # hours that usually see fewer CDRs say nothing
DROP_P = 1e-6  # ... and the run's CDRs must be this unlikely under its usual (Poisson) rate
LATE_HOURS = 12.0  # landed this much later than the feed usually does


@dataclass(frozen=True)
class Cause:
    kind: str
    dimension: str
    value: str
    window_start: datetime
    window_end: datetime
    score: float
    evidence: str
    recommendation: str


@dataclass
class Finding:
    symptom: str
    metric: str
    amount: float
    window_start: datetime
    window_end: datetime
    causes: list[Cause] = field(default_factory=list)

    @property
    def finding_id(self) -> str:
        top = (self.causes[0].kind, self.causes[0].value) if self.causes else ("", "")
        key = f"{self.metric}|{top[0]}|{top[1]}|{self.window_start.isoformat()}|{self.symptom}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Observations:
    """What the analysis reads, as plain rows (the warehouse reader fills it)."""

    exceptions: Sequence[Mapping[str, object]] = ()  # control, reason, event_date, dims, amount
    expected: Sequence[Mapping[str, object]] = ()  # event_date, dims, expected_revenue
    hourly: Sequence[Mapping[str, object]] = ()  # hour, network_element_id, cdrs
    alarms: Sequence[Mapping[str, object]] = ()  # alarm_id, element, severity, raised/cleared
    elements: Sequence[Mapping[str, object]] = ()  # the OSS inventory
    loads: Sequence[Mapping[str, object]] = ()  # raw._loads rows, with `elements` for CDRs
    anomalies: Sequence[Mapping[str, object]] = ()  # quality.anomalies: metric, dimension, day


def analyze(obs: Observations) -> list[Finding]:
    findings = [*leak_findings(obs), *volume_findings(obs), *feed_findings(obs)]
    _prefer_upstream_feeds(findings)
    findings += anomaly_findings(obs.anomalies, findings)
    return sorted(findings, key=lambda f: (-abs(f.amount), f.metric, f.window_start))


# -- leaks ------------------------------------------------------------------------------------
def _kind(row: Mapping[str, object]) -> str | None:
    control, reason = str(row["control"]), str(row["reason"])
    return KIND_BY_REASON.get((control, reason)) or KIND_BY_CONTROL.get(control)


LINE_KINDS = ("unbilled_provisioning", "subscription_mismatch")
ROUNDS = 3  # several incidents of one kind: attribute again what the first places left
MIN_REMAINDER = 0.05  # ... while the rest is at least this share of the kind's amount


def leak_findings(obs: Observations) -> list[Finding]:
    groups: dict[str, list[Mapping[str, object]]] = defaultdict(list)
    for row in obs.exceptions:
        kind = _kind(row)
        if kind and row.get("amount") is not None:
            groups[kind].append(row)
    # usage of a line billing does not carry is never billed: the line is the cause, not a
    # usage feed, so its unbilled CDRs are that line finding's consequence
    lines = {r.get("msisdn") for k in LINE_KINDS for r in groups.get(k, ())} - {None}
    groups["unbilled_usage"] = [
        r for r in groups.get("unbilled_usage", []) if r.get("msisdn") not in lines
    ]
    window = _data_window(obs.expected)
    findings = []
    for kind, rows in sorted(groups.items()):
        total = sum(abs(float(r["amount"])) for r in rows)
        for _ in range(ROUNDS):
            if not rows or sum(abs(float(r["amount"])) for r in rows) < MIN_REMAINDER * total:
                break
            found, rows = _leak_group(
                kind, rows, obs.expected, window if kind in LINE_KINDS else None
            )
            findings.extend(found)
    return findings


def _data_window(expected: Sequence[Mapping[str, object]]) -> tuple[datetime, datetime] | None:
    """The days the warehouse has traffic for: the window of a line-level state."""
    days = [_as_date(r["event_date"]) for r in expected if r.get("event_date")]
    if not days:
        return None
    return _midnight(min(days)), _midnight(max(days)) + timedelta(days=1)


def _leaf_key(row: Mapping[str, object]) -> tuple:
    return tuple(str(row.get(d) or "(none)") for d in DIMENSIONS)


def _leak_group(
    kind: str,
    rows: list[Mapping[str, object]],
    expected: Sequence[Mapping[str, object]],
    window: tuple[datetime, datetime] | None,
) -> tuple[list[Finding], list[Mapping[str, object]]]:
    """Where one kind of exception concentrates, against where revenue normally is; returns
    the findings and the exceptions they leave unexplained."""
    baseline: dict[tuple, float] = defaultdict(float)
    for row in expected:
        baseline[_leaf_key(row)] += float(row.get("expected_revenue") or 0.0)
    at_risk: dict[tuple, float] = defaultdict(float)
    for row in rows:
        at_risk[_leaf_key(row)] += abs(float(row["amount"]))  # over- and under-billing alike
    leaves = []
    for key in set(baseline) | set(at_risk):
        base = baseline.get(key, 0.0)
        leaves.append(
            {
                **dict(zip(DIMENSIONS, key, strict=True)),
                "forecast": base,
                "actual": base + at_risk.get(key, 0.0),
            }
        )
    attributions = [
        a
        for a in attribute(
            leaves,
            [d for d in DIMENSIONS if d not in NOT_A_PLACE.get(kind, ())],
            pairs=False,
            top=4,
        )
        if all(v[0] != "(none)" for v in a.values)
    ]
    if kind == "gl_mismatch":
        attributions = [_by_value(rows, "revenue_stream")]
    elif not attributions:
        attributions = [_by_value(rows, "service_type")]
    best, *others = attributions
    dimension = best.dimensions[0]
    findings = []
    explained: set[int] = set()
    for (value,) in best.values:
        here = [r for r in rows if str(r.get(dimension) or "(none)") == value]
        explained |= {id(r) for r in here}
        start, end = window or _days_window(here)
        amount = sum(float(r["amount"]) for r in here)
        primary = _cause(kind, dimension, str(value), start, end, best, here)
        alternatives = [
            _cause(kind, a.dimensions[0], str(v[0]), start, end, a, here)
            for a in others
            for v in a.values
        ]
        findings.append(
            Finding(
                symptom=f"{kind.replace('_', ' ')}: {len(here)} exceptions, "
                f"{amount:,.2f} at {dimension}={value}",
                metric=f"exceptions/{kind}",
                amount=amount,
                window_start=start,
                window_end=end,
                causes=[primary, *alternatives],
            )
        )
    return findings, [r for r in rows if id(r) not in explained]


def _by_value(rows: list[Mapping[str, object]], dimension: str) -> Attribution:
    """One finding per value of `dimension`, when attribution cannot localise the exceptions:
    the service when no dimension does, the revenue stream for the GL (a posting has no
    element, plan or region)."""
    values = sorted({str(r.get(dimension) or "(none)") for r in rows})
    return Attribution(
        dimensions=(dimension,),
        values=tuple((v,) for v in values),
        explanatory_power=1.0,
        surprise=0.0,
        actual=sum(abs(float(r["amount"])) for r in rows),
        expected=0.0,
        delta=0.0,
        share=0.0,
    )


def _days_window(rows: Iterable[Mapping[str, object]]) -> tuple[datetime, datetime]:
    days = sorted(_as_date(r["event_date"]) for r in rows if r.get("event_date"))
    if not days:
        now = datetime.combine(date.today(), datetime.min.time())
        return now, now + timedelta(days=1)
    return _midnight(days[0]), _midnight(days[-1]) + timedelta(days=1)


def _cause(
    kind: str,
    dimension: str,
    value: str,
    start: datetime,
    end: datetime,
    attribution: Attribution,
    rows: list[Mapping[str, object]],
) -> Cause:
    facts = {
        dimension: value,
        "start": start.date().isoformat(),
        "end": end.date().isoformat(),
        "period": start.strftime("%Y-%m"),
    }
    for d in DIMENSIONS:  # a dimension all these exceptions share is a fact too
        values = {r.get(d) for r in rows}
        if len(values) == 1 and None not in values:
            facts.setdefault(d, str(values.pop()))
    return Cause(
        kind=kind,
        dimension=dimension,
        value=value,
        window_start=start,
        window_end=end,
        score=round(attribution.explanatory_power * (1 + attribution.surprise), 4),
        evidence=attribution.describe() if attribution.surprise else f"{len(rows)} exceptions",
        recommendation=recommend(kind, facts),
    )


# -- network volume ---------------------------------------------------------------------------
def volume_findings(obs: Observations) -> list[Finding]:
    """Hours where an element's CDRs fell far under the median of the same hour on other days."""
    series: dict[str, dict[datetime, float]] = defaultdict(dict)
    for row in obs.hourly:
        series[str(row["network_element_id"])][_as_datetime(row["hour"])] = float(row["cdrs"])
    graph = topology_graph(obs.elements) if obs.elements else None
    findings = []
    for element, points in sorted(series.items()):
        for start, end, deficit, usual in _drops(points):
            findings.append(_drop_finding(element, start, end, deficit, usual, obs, graph))
    return findings


def _drops(points: Mapping[datetime, float]) -> list[tuple[datetime, datetime, float, float]]:
    by_hour: dict[int, list[float]] = defaultdict(list)
    for t, v in points.items():
        by_hour[t.hour].append(v)
    usual = {h: statistics.median(v) for h, v in by_hour.items()}
    first, last = min(points), max(points)
    runs, current = [], None
    t = first
    while t <= last:
        expected = usual.get(t.hour, 0.0)
        actual = points.get(t, 0.0)
        low = expected >= MIN_USUAL and actual < DROP_RATIO * expected
        if low:
            if current is None:
                current = [t, t, 0.0, 0.0]
            current[1] = t
            current[2] += expected - actual
            current[3] += expected
        elif current is not None:
            runs.append(current)
            current = None
        t += timedelta(hours=1)
    if current is not None:
        runs.append(current)
    # a quiet night hour on a small element is chance; hours of silence on a busy one are not
    return [
        (s, e + timedelta(hours=1), d, u) for s, e, d, u in runs if poisson.cdf(u - d, u) < DROP_P
    ]


def _drop_finding(element, start, end, deficit, usual, obs, graph) -> Finding:
    window_alarms = [
        a
        for a in obs.alarms
        if _as_datetime(a["raised_at"]) < end
        and (a.get("cleared_at") is None or _as_datetime(a["cleared_at"]) > start)
    ]
    causes = []
    if graph is not None and element in graph:
        explained = explain_in_topology(graph, {element: deficit}, alarm_suspects(window_alarms))
        for e in explained:
            causes.append(
                Cause(
                    kind="cdr_drop",
                    dimension="network_element_id",
                    value=e.suspect.node,
                    window_start=start,
                    window_end=end,
                    score=round(e.rank_score, 4),
                    evidence=f"{e.suspect.evidence}; {deficit:,.0f} CDRs missing "
                    f"({deficit / usual:.0%} of the usual {usual:,.0f})",
                    recommendation=recommend(
                        "cdr_drop",
                        {
                            "network_element_id": e.suspect.node,
                            "start": start.isoformat(),
                            "end": end.isoformat(),
                        },
                    ),
                )
            )
    if not any(c.value == element for c in causes):
        causes.append(
            Cause(
                kind="cdr_drop",
                dimension="network_element_id",
                value=element,
                window_start=start,
                window_end=end,
                score=round(0.5 * deficit / usual, 4),
                evidence=f"{deficit:,.0f} CDRs missing ({deficit / usual:.0%} of the usual "
                f"{usual:,.0f}); no alarm on the element or above it",
                recommendation=recommend(
                    "cdr_drop",
                    {
                        "network_element_id": element,
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                    },
                ),
            )
        )
    return Finding(
        symptom=f"CDR volume of {element} fell {deficit / usual:.0%} under its usual level",
        metric="cdr_volume",
        amount=-deficit,
        window_start=start,
        window_end=end,
        causes=sorted(causes, key=lambda c: -c.score),
    )


# -- feeds ------------------------------------------------------------------------------------
def feed_findings(obs: Observations) -> list[Finding]:
    """Batches that landed late against their feed's usual delay, and feeds that changed shape."""
    by_feed: dict[str, list[Mapping[str, object]]] = defaultdict(list)
    for row in obs.loads:
        if row.get("method") != "stream":
            by_feed[f"{row['source']}.{row['entity']}"].append(row)
    findings = []
    for feed, rows in sorted(by_feed.items()):
        delays = {id(r): _delay_hours(r) for r in rows}
        usual = statistics.median(delays.values())
        for row in rows:
            late = delays[id(row)] - usual
            if late > LATE_HOURS:
                findings.append(_feed_finding("late_batch", feed, [row], late))
        drifted = [r for r in rows if r.get("extra_columns") or r.get("missing_columns")]
        for place, group in _by_place(feed, drifted).items():
            findings.append(_feed_finding("schema_drift", feed, group, 0.0, place))
    return findings


def _delay_hours(row: Mapping[str, object]) -> float:
    day_end = _midnight(_as_date(row["partition_date"])) + timedelta(days=1)
    return (_as_datetime(row["landed_at"]) - day_end).total_seconds() / 3600


def _place(feed: str, row: Mapping[str, object]) -> tuple[str, str]:
    elements = list(row.get("elements") or [])
    if feed == "cdr.records" and len(elements) == 1:
        return "network_element_id", str(elements[0])
    return "feed", feed


def _by_place(feed: str, rows: list[Mapping[str, object]]) -> dict[tuple[str, str], list]:
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for row in rows:
        groups[_place(feed, row)].append(row)
    return groups


def _feed_finding(
    kind: str,
    feed: str,
    rows: list[Mapping[str, object]],
    late_hours: float,
    place: tuple[str, str] | None = None,
) -> Finding:
    dimension, value = place or _place(feed, rows[0])
    days = sorted(_as_date(r["partition_date"]) for r in rows)
    start, end = _midnight(days[0]), _midnight(days[-1]) + timedelta(days=1)
    batches = ", ".join(str(r["batch_id"]) for r in rows[:3]) + ("..." if len(rows) > 3 else "")
    source, entity = feed.split(".", 1)
    facts = {dimension: value, "batch": batches, "start": start.date().isoformat()}
    facts |= {"source": source, "entity": entity}
    if kind == "late_batch":
        evidence = f"batch {batches} landed {late_hours:.0f} h later than the feed usually does"
        symptom = f"late batch of {feed} for {days[0]}"
    else:
        extra = sorted({c for r in rows for c in (r.get("extra_columns") or [])})
        missing = sorted({c for r in rows for c in (r.get("missing_columns") or [])})
        evidence = (
            f"{len(rows)} batches of {feed} with new columns {', '.join(extra) or '-'} and "
            f"without {', '.join(missing) or '-'}"
        )
        symptom = f"{feed} changed shape from {days[0]}"
    cause = Cause(kind, dimension, value, start, end, 1.0, evidence, recommend(kind, facts))
    rows_in = sum(int(r.get("rows_in") or 0) for r in rows)
    return Finding(symptom, f"feed/{kind}", float(rows_in), start, end, [cause])


def _prefer_upstream_feeds(findings: list[Finding]) -> None:
    """A late or reshaped CDR batch of an element explains that element's leak the same day."""
    feeds = [f for f in findings if f.metric.startswith("feed/") and f.causes]
    for finding in findings:
        if not finding.metric.startswith("exceptions/") or not finding.causes:
            continue
        top = finding.causes[0]
        for feed in feeds:
            cause = feed.causes[0]
            if (
                cause.dimension == top.dimension == "network_element_id"
                and cause.value == top.value
                and cause.window_start < finding.window_end
                and finding.window_start < cause.window_end
            ):
                upstream = replace(cause, score=top.score * 1.5 + SEVERITY_WEIGHT["critical"])
                finding.causes.insert(0, upstream)
                break


# -- quality anomalies ------------------------------------------------------------------------
# how far upstream a cause sits: the network feeds mediation, mediation the feeds, the feeds
# the marts and the controls; an anomaly is explained by the most upstream cause that fits
LAYER = {"cdr_drop": 0, "late_batch": 1, "schema_drift": 1}


def anomaly_findings(
    anomalies: Sequence[Mapping[str, object]], findings: list[Finding]
) -> list[Finding]:
    """One finding per anomaly the quality history flagged, its causes the other findings that
    touch the same place and day, most upstream first; none fitting, the anomaly itself."""
    out = []
    for anomaly in anomalies:
        day = _as_date(anomaly["day"])
        start, end = _midnight(day), _midnight(day) + timedelta(days=1)
        place = str(anomaly["dimension"]).split("/")
        touching = [
            f
            for f in findings
            if f.causes
            and f.causes[0].window_start < end
            and start < f.causes[0].window_end
            and _fits(place, f.causes[0])
        ]
        if place == ["all"]:  # a figure over everything: the money that moved it, largest first
            touching = sorted(
                (f for f in touching if f.metric.startswith("exceptions/")),
                key=lambda f: -abs(f.amount),
            )
        else:
            touching.sort(key=lambda f: (LAYER.get(f.causes[0].kind, 2), -f.causes[0].score))
        fitting = [f.causes[0] for f in touching]
        observed, expected = float(anomaly["observed"]), float(anomaly["expected"])
        evidence = (
            f"{anomaly['metric']} of {anomaly['dimension']} was {observed:,.4g} on {day}"
            f" against {expected:,.4g} expected ({anomaly['method']})"
        )
        causes = [replace(c, evidence=f"{c.evidence}; explains: {evidence}") for c in fitting]
        if not causes:
            causes = [
                Cause(
                    "data_anomaly",
                    "dataset",
                    str(anomaly["dimension"]),
                    start,
                    end,
                    float(anomaly.get("score") or 0.0),
                    evidence,
                    recommend("data_anomaly", {}),
                )
            ]
        out.append(
            Finding(
                symptom=f"anomaly: {anomaly['metric']} of {anomaly['dimension']} on {day}",
                metric=f"anomaly/{anomaly['metric']}",
                amount=observed - expected,
                window_start=start,
                window_end=end,
                causes=causes,
            )
        )
    return out


def _fits(place: list[str], cause: Cause) -> bool:
    """An anomaly on `network/E` or `<feed>/E` fits causes at element E; one on a feed fits
    that feed's causes; one over everything (`all`) fits any cause of the day."""
    if place == ["all"]:
        return True
    if len(place) == 2:
        return cause.dimension == "network_element_id" and cause.value == place[1]
    return cause.dimension == "feed" and cause.value == place[0]


# -- values -----------------------------------------------------------------------------------
def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
