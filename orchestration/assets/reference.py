"""Group `reference`: what the feeds' values mean, normalized once for every consumer.

`reference/phone_numbers` holds libphonenumber's reading of each distinct raw phone value for
the operator's home country; dbt staging joins it. Its check says when the subscriber lines are
mostly another country's numbers: then the operator profile is wrong, not the data.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.assets.streaming import CDR_STREAM_KEY
from orchestration.resources import WarehouseResource
from sdp.numbering import (
    HOME_LINES_FAIL_SHARE,
    HOME_LINES_WARN_SHARE,
    LIBRARY_VERSION,
    PHONE_COLUMNS,
    TABLE,
    home_line_fit,
    refresh,
)
from sdp.operator import SETTINGS, load_profile

PHONE_NUMBERS_KEY = AssetKey(["reference", "phone_numbers"])
COUNTRY_SETTING = next(s.variable for s in SETTINGS if s.key == "country")


def _issues_preview(conn, country: str) -> str:
    rows = conn.execute(
        f"select raw_value, coalesce(e164, ''), issue from {TABLE}"
        " where home_country = %s and issue is not null order by normalized_at desc, raw_value"
        " limit 10",
        (country,),
    ).fetchall()
    lines = ["| raw value | E.164 | issue |", "|---|---|---|"]
    lines += [f"| `{raw}` | {e164} | {issue} |" for raw, e164, issue in rows]
    return "\n".join(lines) if rows else "no value with an issue"


@asset(
    key=PHONE_NUMBERS_KEY,
    group_name="reference",
    kinds={"python", "postgres"},
    deps=sorted(
        {AssetKey(["raw", c.table]) for c in PHONE_COLUMNS} | {CDR_STREAM_KEY},
        key=lambda k: k.to_user_string(),
    ),
    # unpartitioned: it normalizes whatever raw values are new, whichever days they came from
    backfill_policy=BackfillPolicy.single_run(),
    code_version=LIBRARY_VERSION,
    description=(
        "Every distinct phone value of the feeds (CRM phones and MSISDNs, billing lines, CDR "
        "callers and called numbers, OSS provisioning) read by libphonenumber for the operator "
        "profile's home country: E.164, the number's region and type, whether its range is "
        f"allocated, and why not when it cannot be a number. Table `{TABLE}`; only values not "
        "yet normalized (for this country and library version) are computed."
    ),
    check_specs=[
        AssetCheckSpec(
            "subscriber_lines_fit_home_country",
            asset=PHONE_NUMBERS_KEY,
            blocking=True,
            description=(
                "The operator's own lines (CRM, billing, CDR and OSS MSISDNs) are numbers of "
                f"the home country: warns above {HOME_LINES_WARN_SHARE:.0%} of a column, fails "
                f"and stops staging above {HOME_LINES_FAIL_SHARE:.0%}, saying which setting to "
                "check and showing samples."
            ),
        )
    ],
)
def phone_numbers(context: AssetExecutionContext, warehouse: WarehouseResource):
    profile = load_profile()
    with warehouse.connect() as conn:
        done = refresh(conn, profile.country)
        fits = home_line_fit(conn, profile.country)
        preview = _issues_preview(conn, profile.country)
    context.log.info(
        f"{done.normalized:,} new phone values normalized for {profile.country}; "
        f"{done.total:,} in all, {done.invalid:,} not valid, {done.not_numbers:,} not numbers"
    )
    yield MaterializeResult(
        metadata={
            "home_country": MetadataValue.text(profile.country),
            "normalized_this_run": MetadataValue.int(done.normalized),
            "distinct_values": MetadataValue.int(done.total),
            "not_valid": MetadataValue.int(done.invalid),
            "not_numbers": MetadataValue.int(done.not_numbers),
            "libphonenumber": MetadataValue.text(LIBRARY_VERSION),
            "issues_preview": MetadataValue.md(preview),
        }
    )
    worst = max(fits, key=lambda f: f.share, default=None)
    setting = f"{COUNTRY_SETTING} (now {profile.country}, from {profile.sources['country']})"
    messages = [f.hint(profile.country, setting) for f in fits if f.share > HOME_LINES_WARN_SHARE]
    for message in messages:
        context.log.warning(message)
    yield AssetCheckResult(
        check_name="subscriber_lines_fit_home_country",
        passed=not messages,
        severity=(
            AssetCheckSeverity.ERROR
            if worst is not None and worst.share > HOME_LINES_FAIL_SHARE
            else AssetCheckSeverity.WARN
        ),
        description=messages[0] if messages else None,
        metadata={
            "columns": MetadataValue.md(
                "| column | rows | not home-country numbers | share |\n|---|---:|---:|---:|\n"
                + "\n".join(
                    f"| `{f.column.label}` | {f.rows:,} | {f.misfits:,} | {f.share:.2%} |"
                    for f in fits
                )
            ),
            "hints": MetadataValue.md("\n\n".join(messages) or "every line column fits"),
        },
    )
