"""What to do about a cause: one concrete action per cause kind, with its parameters filled in.

The kinds are those the scenarios inject and the controls detect; an analyst reads the action
first, so each names the object to act on (plan, batch, element, lines) and the time to start.
"""

from __future__ import annotations

from collections.abc import Mapping

ACTIONS: dict[str, str] = {
    "cdr_drop": (
        "inspect element {network_element_id} (mediation link and alarms) and recover its CDRs "
        "from {start} to {end}, then re-run rating for them"
    ),
    "wrong_tariff": (
        "re-rate plan {plan_code} {service_type} usage from {start} with the ERP tariff and "
        "credit or back-bill the difference"
    ),
    "mediation_replay": (
        "remove the replayed CDRs of element {network_element_id} ({batch}) and reverse their "
        "second charge"
    ),
    "unbilled_usage": (
        "re-send plan {plan_code} {service_type} usage from {start} to {end} to billing for rating"
    ),
    "late_billing": (
        "clear the rating suspense of element {network_element_id} for {start} and check the "
        "billing SLA"
    ),
    "unbilled_provisioning": (
        "add the lines active on the network in region {region} (plan {plan_code}) to billing "
        "and bill their fees from {start}"
    ),
    "subscription_mismatch": (
        "align CRM, billing and network for the listed lines in region {region}"
    ),
    "gl_mismatch": "post the missing {revenue_stream} revenue of {period} to the general ledger",
    "duplicate_customers": "merge the duplicate customer records into their golden customer",
    "bad_contact_data": "correct the customers' invalid emails and phone numbers at the source",
    "late_batch": (
        "re-load batch {batch} and rebuild the marts for {start}; check the feed's delivery SLA"
    ),
    "schema_drift": (
        "update the {source}.{entity} contract mapping for the new columns and re-load {batch}"
    ),
    "rejects": "fix the rejected rows of batch {batch} at the source and re-land it",
    "data_anomaly": (
        "check the flagged metric against its source; no feed, network or control finding "
        "explains it"
    ),
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def recommend(kind: str, facts: Mapping[str, object]) -> str:
    """The action for a cause of `kind`; facts it lacks show as <name>, never as an error."""
    template = ACTIONS.get(kind)
    if template is None:
        return f"investigate the {kind.replace('_', ' ')} reported here"
    values = _Blank({k: v for k, v in facts.items() if v not in (None, "")})
    return template.format_map(values)
