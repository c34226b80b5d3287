"""`sdp score`: the platform's answers against the generator's ground truth."""

from __future__ import annotations

from psycopg import Connection

from sdp.scoring.anomalies import score_anomalies
from sdp.scoring.controls import score_controls
from sdp.scoring.matching import score_matching
from sdp.scoring.rca import score_rca


def score(conn: Connection, truth: dict) -> dict:
    result = {"scenario": truth.get("scenario"), **score_controls(conn, truth)}
    matching = score_matching(conn, truth)
    if matching:
        result["matching"] = matching
    anomalies = score_anomalies(conn, truth)
    if anomalies:
        result["anomalies"] = anomalies
    rca = score_rca(conn, truth)
    if rca:
        result["rca"] = rca
    return result


def format_score(result: dict) -> str:
    lines = [f"scenario: {result.get('scenario')}", "revenue-assurance controls:"]
    lines.append(
        f"  {'incident kind':<24}{'detected':>10}{'injected':>10}"
        f"{'impact':>14}{'found':>14}{'error':>9}"
    )
    for kind, row in result["controls"].items():
        lines.append(
            f"  {kind:<24}{row['detected']:>10}{row['injected']:>10}"
            f"{row['impact_injected']:>14}{row['impact_detected']:>14}"
            f"{row['impact_error']:>9.2%}"
        )
    for model, row in result.get("matching", {}).items():
        lines.append(
            f"customer {model:<6} precision {row['precision']:.4f}  recall {row['recall']:.4f}"
            f"  F1 {row['f1']:.4f}  ({row['correct_pairs']}/{row['true_pairs']} true pairs,"
            f" {row['predicted_pairs']} predicted)"
        )
    if "anomalies" in result:
        a = result["anomalies"]
        lines.append(
            f"data-quality anomalies: {a['flagged']}/{a['incidents']} incidents flagged"
            + (f" (missed: {', '.join(a['missed'])})" if a["missed"] else "")
            + f"; false alarms {a['false_alarms']}/{a['metric_days']} metric-days"
            f" ({a['false_alarm_rate']:.2%})"
        )
    if "rca" in result:
        r = result["rca"]
        lines.append(
            f"root causes: top-ranked cause right for {r['top1_correct']}/{r['incidents']} "
            f"incidents ({r['top1_accuracy']:.0%})"
            + (f" (missed: {', '.join(r['missed'])})" if r["missed"] else "")
        )
    unexplained = result["unexplained_exceptions"]
    lines.append(
        "exceptions no incident explains: "
        + (", ".join(f"{k} {n}" for k, n in unexplained.items()) if unexplained else "none")
    )
    return "\n".join(lines)
