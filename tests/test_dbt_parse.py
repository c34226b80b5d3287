"""dbt parses the project once per warehouse, not once per invocation."""

from __future__ import annotations

from sdp.dbt_cli import dbt_vars, parse_cache, run_dbt

FULL_PARSE = "Unable to do partial parsing"


def test_a_second_invocation_against_the_same_warehouse_parses_only_what_changed(db_url):
    first = run_dbt(db_url, "parse")
    assert first.returncode == 0, first.stdout
    # a database no invocation has parsed for: dbt says why it parses in full
    assert FULL_PARSE in first.stdout
    assert parse_cache(db_url, dbt_vars()).exists()

    second = run_dbt(db_url, "parse")
    assert second.returncode == 0, second.stdout
    assert FULL_PARSE not in second.stdout


def test_a_parse_is_kept_per_warehouse_and_per_vars(db_url):
    other = db_url.rsplit("/", 1)[0] + "/another_warehouse"
    assert parse_cache(db_url, dbt_vars()) != parse_cache(other, dbt_vars())
    assert parse_cache(db_url, dbt_vars()) != parse_cache(db_url, dbt_vars(partition_start="x"))
