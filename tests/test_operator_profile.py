"""The operator profile: one file plus environment overrides, each bad value named, and the
time zone every reader of a timestamp shares."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sdp.ingest.validate import parse_timestamp, session_zone
from sdp.operator import DEFAULT_FILE, ProfileError, load_profile

FRENCH = """\
country: fr
currency: EUR
timezone: Europe/Paris
late_billing_hours: 48
bill_run_cutoff_hour: 0
locale: fr_FR
"""


def _profile_file(tmp_path: Path, text: str = FRENCH) -> Path:
    path = tmp_path / "operator.yaml"
    path.write_text(text)
    return path


def test_the_shipped_profile_describes_the_demo_operator():
    profile = load_profile({})
    assert (profile.country, profile.currency, profile.timezone) == ("GB", "GBP", "UTC")
    assert profile.sources["country"] == str(DEFAULT_FILE)
    assert profile.calling_code == 44


def test_a_file_gives_the_profile_and_the_environment_overrides_it(tmp_path):
    env = {"SDP_OPERATOR_FILE": str(_profile_file(tmp_path))}
    profile = load_profile(env)
    assert (profile.country, profile.currency, profile.timezone) == ("FR", "EUR", "Europe/Paris")
    assert profile.money(1234.5).replace("\u202f", " ").replace("\xa0", " ") == "1 234,50 €"
    assert profile.dbt_vars() == {
        "operator_country": "FR",
        "operator_timezone": "Europe/Paris",
        "late_billing_hours": 48,
        "bill_run_cutoff_hour": 0,
        "invoice_usage_by": "event_time",  # the default
    }
    overridden = load_profile({**env, "SDP_OPERATOR_TIMEZONE": "America/New_York"})
    assert overridden.timezone == "America/New_York"
    assert overridden.sources["timezone"] == "SDP_OPERATOR_TIMEZONE"
    assert overridden.sources["country"] == env["SDP_OPERATOR_FILE"]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SDP_OPERATOR_COUNTRY", "XX", "'XX' is not an ISO 3166-1 alpha-2 country"),
        ("SDP_OPERATOR_CURRENCY", "EURO", "'EURO' is not an ISO 4217 currency code"),
        ("SDP_OPERATOR_TIMEZONE", "Europe/Atlantis", "'Europe/Atlantis' is not an IANA time zone"),
        ("SDP_BILL_RUN_CUTOFF_HOUR", "24", "24 is outside 0..23"),
        ("SDP_LATE_BILLING_HOURS", "a day", "'a day' is not a whole number of hours"),
        ("SDP_OPERATOR_LOCALE", "xx_YY", "'xx_YY' is not a known locale"),
        ("SDP_INVOICE_USAGE_BY", "billed_at", "'billed_at' is not one of event_time, rated_at"),
    ],
)
def test_a_bad_setting_is_named_with_where_it_came_from(variable, value, says):
    with pytest.raises(ProfileError) as error:
        load_profile({variable: value})
    assert says in str(error.value)
    assert f"from {variable}" in str(error.value)


def test_a_file_that_lacks_settings_or_has_unknown_ones_says_which(tmp_path):
    lacking = _profile_file(tmp_path, "country: FR\ncurrency: EUR\n")
    with pytest.raises(ProfileError, match="incomplete: set SDP_OPERATOR_TIMEZONE"):
        load_profile({"SDP_OPERATOR_FILE": str(lacking)})
    unknown = _profile_file(tmp_path, FRENCH + "plan_codes: [A, B]\n")
    with pytest.raises(ProfileError, match=r"unknown setting\(s\) plan_codes"):
        load_profile({"SDP_OPERATOR_FILE": str(unknown)})
    with pytest.raises(ProfileError, match="cannot be read"):
        load_profile({"SDP_OPERATOR_FILE": str(tmp_path / "nowhere.yaml")})


def test_sdp_config_shows_the_profile_and_a_bad_one_is_one_line(tmp_path):
    sdp = [sys.executable, "-m", "sdp.cli"]
    shown = subprocess.run(
        [*sdp, "config"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SDP_OPERATOR_FILE": str(_profile_file(tmp_path))},
    )
    assert shown.returncode == 0, shown.stderr
    assert "SDP_OPERATOR_COUNTRY     FR  (from" in shown.stdout
    assert "SDP_OPERATOR_TIMEZONE    Europe/Paris" in shown.stdout
    bad = subprocess.run(
        [*sdp, "config"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "SDP_OPERATOR_COUNTRY": "Utopia"},
    )
    expected = [
        "Error: operator profile country from SDP_OPERATOR_COUNTRY: 'Utopia' is not an ISO "
        "3166-1 alpha-2 country (e.g. GB, FR)"
    ]
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == expected
    # any command that needs the profile says the same, no traceback
    migrate = subprocess.run(
        [*sdp, "migrate"],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "SDP_HOME": str(tmp_path / "home"),
            "SDP_WAREHOUSE_URL": "postgresql://sdp@127.0.0.1:1/warehouse",
            "SDP_OPERATOR_COUNTRY": "Utopia",
        },
    )
    assert migrate.returncode == 1
    assert migrate.stderr.strip().splitlines() == expected


@pytest.mark.parametrize(
    ("written", "instant"),
    [
        ("2026-10-27 14:03:12", "2026-10-27 13:03:12"),  # winter time, +01:00
        ("2026-07-01T10:00", "2026-07-01 08:00:00"),  # summer time, +02:00
        ("2026-10-25 02:30:00", "2026-10-25 01:30:00"),  # repeated hour: the later one
        ("2026-03-29 02:30:00", "2026-03-29 01:30:00"),  # skipped hour: the offset before
        ("2026-10-27T14:03:12Z", "2026-10-27 14:03:12"),  # an offset wins over the zone
        ("2026-10-27T23:30:00-05:00", "2026-10-28 04:30:00"),
    ],
)
def test_a_timestamp_without_offset_is_local_time_on_both_load_paths(
    db_url, monkeypatch, written, instant
):
    """The exact (validated) path and the fast (COPY) path read the same instant, even when
    the process exports another PGTZ (a dbt or Soda run in it did)."""
    from sdp.db import connect

    monkeypatch.setenv("SDP_OPERATOR_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("PGTZ", "UTC")
    with connect(db_url) as conn:
        zone = session_zone(conn)
        assert zone == ZoneInfo("Europe/Paris")
        exact = datetime.fromisoformat(parse_timestamp(written, zone)).astimezone(UTC)
        fast = conn.execute("select %s::timestamptz", (written,)).fetchone()[0].astimezone(UTC)
    assert exact == fast == datetime.fromisoformat(instant).replace(tzinfo=UTC)
