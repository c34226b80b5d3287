"""Group `rca`: ranked root causes for every leak, drop and feed problem the warehouse shows."""

from datetime import date
from typing import TYPE_CHECKING

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.partitions import daily_partitions
from orchestration.resources import EventBusResource, WarehouseResource
from sdp.analysis.report import write_daily_report
from sdp.analysis.store import FINDINGS, write_findings
from sdp.events import envelope
from sdp.settings import load_settings

if TYPE_CHECKING:
    from rca.findings import Finding

UPSTREAM = [
    AssetKey(["controls", "ctl_exceptions"]),
    AssetKey(["marts", "cdrs"]),
    AssetKey(["marts", "network_elements"]),
    AssetKey(["staging", "stg_oss__alarms"]),
    AssetKey(["raw", "_loads"]),
    AssetKey(["quality", "anomalies"]),
]


def _table(findings: "list[Finding]", limit: int = 15) -> str:
    rows = [
        "| symptom | top cause | where | window | evidence |",
        "|---|---|---|---|---|",
    ]
    for f in findings[:limit]:
        c = f.causes[0]
        rows.append(
            f"| {f.symptom} | {c.kind} | {c.dimension}={c.value} | "
            f"{c.window_start:%Y-%m-%d %H:%M} → {c.window_end:%Y-%m-%d %H:%M} | {c.evidence} |"
        )
    return "\n".join(rows)


def _event(f: "Finding") -> dict:
    c = f.causes[0]
    return envelope(
        "rca.finding",
        "rca",
        {
            "finding_id": f.finding_id,
            "symptom": f.symptom,
            "amount": round(f.amount, 4),
            "cause": {
                "kind": c.kind,
                "dimension": c.dimension,
                "value": c.value,
                "window": [c.window_start.isoformat(), c.window_end.isoformat()],
                "score": c.score,
                "evidence": c.evidence,
                "recommendation": c.recommendation,
            },
            "alternatives": len(f.causes) - 1,
        },
        event_id=f"rca-{f.finding_id}",
    )


@asset(
    key=AssetKey(["rca", "findings"]),
    group_name="rca",
    kinds={"python", "postgres"},
    deps=UPSTREAM,
    # unpartitioned, but runs over a range of days (the CLI, the daily schedule) include it
    backfill_policy=BackfillPolicy.single_run(),
    description=(
        f"`{FINDINGS}`: one row per finding and cause, best cause first. Findings are the "
        "controls' exceptions located by attribution against expected revenue, CDR volume drops "
        "explained through the OSS topology and its alarms, late or reshaped feeds, and the "
        "anomalies `quality/anomalies` flagged, each explained by the most upstream finding "
        "at its place and day; a feed problem upstream of a leak outranks it. Each cause has "
        "evidence and a recommendation; each finding is published on `rca-events`."
    ),
)
def rca_findings(
    context: AssetExecutionContext, warehouse: WarehouseResource, events: EventBusResource
) -> MaterializeResult:
    # the analysis (scipy) loads in the RCA step, not in every step's import
    from rca.findings import analyze
    from sdp.analysis.observe import observe

    with warehouse.connect() as conn:
        observations = observe(conn)
        context.log.info(
            f"analysing {len(observations.exceptions):,} exceptions, "
            f"{len(observations.hourly):,} element-hours, {len(observations.loads):,} batches"
        )
        findings = analyze(observations)
        write_findings(conn, findings)
        events.emit(conn, "rca-events", [_event(f) for f in findings], context.log.info)
    kinds: dict[str, int] = {}
    for f in findings:
        kinds[f.causes[0].kind] = kinds.get(f.causes[0].kind, 0) + 1
    return MaterializeResult(
        metadata={
            "findings": MetadataValue.int(len(findings)),
            "by_cause_kind": MetadataValue.json(kinds),
            "top_findings": MetadataValue.md(_table(findings)),
        }
    )


@asset(
    key=AssetKey(["rca", "report"]),
    group_name="rca",
    kinds={"python", "html"},
    deps=[rca_findings.key, AssetKey(["controls", "ctl_leakage_daily"])],
    partitions_def=daily_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    description=(
        "The day's root-cause report: an HTML page (leakage and over-billing chart, every "
        "finding whose window touches the day with its cause, evidence and action) under "
        "`$SDP_HOME/reports/rca-<day>.html`, linked here with a short Markdown summary."
    ),
)
def rca_report(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    reports = load_settings().reports_dir
    written = []
    with warehouse.connect() as conn:
        for key in context.partition_keys:
            report = write_daily_report(conn, date.fromisoformat(key), reports)
            context.log.info(f"{report.path}: {report.findings} findings")
            written.append(report)
    last = written[-1]
    return MaterializeResult(
        metadata={
            "report": MetadataValue.path(str(last.path)),
            "reports": MetadataValue.md(
                "\n".join(f"- [{r.day}]({r.path.as_uri()}): {r.findings} findings" for r in written)
            ),
            "summary": MetadataValue.md(last.summary),
            "findings": MetadataValue.int(last.findings),
        }
    )
