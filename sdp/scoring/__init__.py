"""`sdp score`: the platform's answers against the generator's ground truth."""

from __future__ import annotations

from psycopg import Connection

from sdp.scoring.controls import score_controls


def score(conn: Connection, truth: dict) -> dict:
    return {"scenario": truth.get("scenario"), **score_controls(conn, truth)}


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
    unexplained = result["unexplained_exceptions"]
    lines.append(
        "exceptions no incident explains: "
        + (", ".join(f"{k} {n}" for k, n in unexplained.items()) if unexplained else "none")
    )
    return "\n".join(lines)
