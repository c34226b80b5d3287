"""A failing staging test says what is likely wrong and how to fix it."""

from __future__ import annotations

import json

from sdp.dbt_cli import DBT_DIR
from sdp.dbt_hints import failure_hint
from sdp.operator import load_profile

NOT_NULL_CDR_MSISDN = "not_null_stg_cdr__records_msisdn"


def test_cdr_msisdns_that_are_not_numbers_point_at_the_home_country(conn):
    manifest = json.loads((DBT_DIR / "target" / "manifest.json").read_text())
    test_id = next(k for k in manifest["nodes"] if k.split(".")[2] == NOT_NULL_CDR_MSISDN)
    # the staging model as a build with the wrong country leaves it: raw kept, E.164 null
    conn.execute("create schema staging")
    conn.execute("create table staging.stg_cdr__records (msisdn text, msisdn_raw text)")
    conn.execute(
        "insert into staging.stg_cdr__records select null, '0' || (600000000 + g)::text"
        " from generate_series(1, 30) as g"
    )
    conn.execute("insert into staging.stg_cdr__records values ('+447400123456', '07400123456')")
    hint = failure_hint(conn, manifest, test_id, 30, load_profile({}))
    assert hint == (
        "30 of 31 CDR MSISDNs are not phone numbers for home country GB: check "
        "SDP_OPERATOR_COUNTRY, then the issues in reference.phone_numbers; samples: "
        "'0600000001', '0600000002', '0600000003', '0600000004', '0600000005'"
    )


def test_a_test_without_a_hint_gets_none(conn):
    manifest = json.loads((DBT_DIR / "target" / "manifest.json").read_text())
    test_id = next(
        k for k in manifest["nodes"] if k.split(".")[2] == "unique_stg_cdr__records_cdr_id"
    )
    assert failure_hint(conn, manifest, test_id, 3, load_profile({})) is None
