"""The daily RCA report: an HTML page with charts, and a short Markdown summary for the UI.

Self-contained HTML (inline SVG, no script, no external asset), so it opens from a mail or a
file share as well as from the Dagster UI's link. It reads only `rca.findings` and the controls'
daily leakage, both already in the warehouse.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from psycopg import Connection

from sdp.db import relation_exists
from sdp.operator import OperatorProfile, load_profile


@dataclass(frozen=True)
class DailyReport:
    day: date
    path: Path
    findings: int
    summary: str  # Markdown


def _findings_of(conn: Connection, day: date) -> list[tuple]:
    start, end = day, day + timedelta(days=1)
    return conn.execute(
        "select symptom, amount, cause_kind, dimension, dimension_value, window_start,"
        " window_end, evidence, recommendation from rca.findings where cause_rank = 1"
        " and window_start < %s and window_end > %s order by abs(amount) desc",
        (end, start),
    ).fetchall()


def _leakage(conn: Connection, day: date, days: int = 14) -> list[tuple[date, float, float]]:
    if not relation_exists(conn, "controls.ctl_leakage_daily"):
        return []
    return conn.execute(
        "select event_date, coalesce(sum(leakage_amount), 0), coalesce(sum(overbilled_amount), 0)"
        " from controls.ctl_leakage_daily where event_date between %s and %s"
        " group by 1 order by 1",
        (day - timedelta(days=days - 1), day),
    ).fetchall()


def _bars(
    series: list[tuple[date, float, float]],
    profile: OperatorProfile,
    width: int = 640,
    height: int = 180,
) -> str:
    """Leakage (red) and over-billing (amber) per day, as an inline SVG bar chart; each bar's
    tooltip gives the amount in the operator's currency."""
    if not series:
        return "<p>No daily leakage figures yet.</p>"
    top = max(max(float(a), float(b)) for _, a, b in series) or 1.0
    slot = width / len(series)
    parts = [f'<svg width="{width}" height="{height + 30}" role="img" aria-label="leakage">']
    for i, (d, leak, over) in enumerate(series):
        for j, (value, colour) in enumerate(((leak, "#c0392b"), (over, "#e6a23c"))):
            h = height * float(value) / top
            x = i * slot + 4 + j * (slot - 8) / 2
            parts.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{(slot - 8) / 2:.1f}" '
                f'height="{h:.1f}" fill="{colour}">'
                f"<title>{d}: {html.escape(profile.money(value))}</title></rect>"
            )
        parts.append(
            f'<text x="{i * slot + slot / 2:.1f}" y="{height + 16}" font-size="10" '
            f'text-anchor="middle">{d:%d %b}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _kind_bars(findings: list[tuple], width: int = 640, row: int = 22) -> str:
    """How many of the day's findings each cause kind heads, as horizontal bars."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f[2]] = counts.get(f[2], 0) + 1
    if not counts:
        return "<p>No finding touches the day.</p>"
    top = max(counts.values())
    parts = [
        f'<svg width="{width}" height="{row * len(counts) + 10}" role="img" aria-label="kinds">'
    ]
    for i, (kind, n) in enumerate(sorted(counts.items(), key=lambda kv: -kv[1])):
        w = (width - 220) * n / top
        y = i * row + 4
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(kind)}</text>'
            f'<rect x="180" y="{y}" width="{w:.1f}" height="{row - 6}" fill="#2c7fb8"/>'
            f'<text x="{184 + w:.1f}" y="{y + 14}" font-size="12">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render(
    day: date, findings: list[tuple], leakage: list[tuple], profile: OperatorProfile
) -> tuple[str, str]:
    """(HTML page, Markdown summary); amounts in the operator profile's currency."""
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                symptom,
                kind,
                f"{dim}={value}",
                f"{ws:%Y-%m-%d %H:%M} → {we:%Y-%m-%d %H:%M}",
                evidence,
                action,
            )
        )
        + "</tr>"
        for symptom, _, kind, dim, value, ws, we, evidence, action in findings
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Root causes {day}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px;
vertical-align:top;font-size:13px}}table{{border-collapse:collapse}}</style></head><body>
<h1>Root causes for {day}</h1>
<p>{len(findings)} findings whose window touches the day, largest first.</p>
<h2>Leakage (red) and over-billing (amber) in {profile.currency}, last 14 days</h2>
{_bars(leakage, profile)}
<h2>Findings by cause</h2>
{_kind_bars(findings)}
<h2>Findings</h2>
<table><tr><th>symptom</th><th>cause</th><th>where</th><th>window</th><th>evidence</th>
<th>what to do</th></tr>{rows}</table>
</body></html>
"""
    lines = [f"**{len(findings)} findings** touch {day}."]
    for symptom, _, kind, dim, value, *_rest in findings[:5]:
        lines.append(f"- {symptom}: **{kind}** at `{dim}={value}`")
    return page, "\n".join(lines)


def data_window(conn: Connection) -> tuple[date, date] | None:
    """The first and last day the warehouse holds traffic for (None: nothing built yet)."""
    if not relation_exists(conn, "marts.reporting_window"):
        return None
    row = conn.execute(
        "select min(window_start), max(window_end) from marts.reporting_window"
    ).fetchone()
    return (row[0], row[1]) if row and row[0] else None


def write_daily_report(conn: Connection, day: date, reports: Path) -> DailyReport:
    findings = _findings_of(conn, day)
    page, summary = render(day, findings, _leakage(conn, day), load_profile())
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"rca-{day.isoformat()}.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return DailyReport(day, path, len(findings), summary)
