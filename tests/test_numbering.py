"""Phone numbers to E.164 by libphonenumber, for any home country, and the table staging joins."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from sdp.ingest.loader import BatchLoader
from sdp.landing import land_file
from sdp.numbering import home_line_fit, normalize, refresh

# (home country, as written, E.164): every format of each country's numbers people and systems
# write: international with "+", with the international prefix, without any prefix; national
# with the trunk prefix; separators; "(0)"; Italy's kept leading zero; NANP's lack of a trunk 0
WRITTEN = [
    ("GB", "+44 7400 123456", "+447400123456"),
    ("GB", "0044 7400 123456", "+447400123456"),
    ("GB", "447400123456", "+447400123456"),
    ("GB", "07400 123456", "+447400123456"),
    ("GB", "07400-123-456", "+447400123456"),
    ("GB", "07400.123.456", "+447400123456"),
    ("GB", "+44 (0)7400 123456", "+447400123456"),
    ("GB", "(0)7400 123456", "+447400123456"),
    ("GB", "0161 496 0123", "+441614960123"),
    ("FR", "+33 6 12 34 56 78", "+33612345678"),
    ("FR", "0033 6 12 34 56 78", "+33612345678"),
    ("FR", "33612345678", "+33612345678"),
    ("FR", "06 12 34 56 78", "+33612345678"),
    ("FR", "06.12.34.56.78", "+33612345678"),
    ("FR", "+33 (0)6 12 34 56 78", "+33612345678"),
    ("FR", "01 42 68 53 00", "+33142685300"),
    ("DE", "+49 1512 3456789", "+4915123456789"),
    ("DE", "0049 1512 3456789", "+4915123456789"),
    ("DE", "4915123456789", "+4915123456789"),
    ("DE", "01512 3456789", "+4915123456789"),
    ("DE", "030 123456", "+4930123456"),
    ("DE", "+49 (0)30 123456", "+4930123456"),
    ("DE", "030/123456", "+4930123456"),
    ("IT", "+39 06 1234 5678", "+390612345678"),
    ("IT", "0039 06 12345678", "+390612345678"),
    ("IT", "390612345678", "+390612345678"),
    ("IT", "06 12345678", "+390612345678"),
    ("IT", "312 345 6789", "+393123456789"),
    ("IT", "393123456789", "+393123456789"),
    ("ES", "+34 612 34 56 78", "+34612345678"),
    ("ES", "0034 612 345 678", "+34612345678"),
    ("ES", "34612345678", "+34612345678"),
    ("ES", "612 34 56 78", "+34612345678"),
    ("ES", "91 123 45 67", "+34911234567"),
    ("US", "+1 (415) 555-2671", "+14155552671"),
    ("US", "011 1 415 555 2671", "+14155552671"),
    ("US", "14155552671", "+14155552671"),
    ("US", "(415) 555-2671", "+14155552671"),
    ("US", "415.555.2671", "+14155552671"),
    ("US", "1-415-555-2671", "+14155552671"),
    ("IN", "+91 98765 43210", "+919876543210"),
    ("IN", "0091 98765 43210", "+919876543210"),
    ("IN", "919876543210", "+919876543210"),
    ("IN", "098765 43210", "+919876543210"),
    ("IN", "98765-43210", "+919876543210"),
    ("IN", "011 2345 6789", "+911123456789"),
]


@pytest.mark.parametrize(("country", "written", "e164"), WRITTEN)
def test_every_written_form_of_a_number_normalizes_to_e164(country, written, e164):
    number = normalize(written, country)
    assert (number.e164, number.is_valid, number.issue) == (e164, True, None)


def test_a_foreign_number_keeps_its_own_country():
    """Mediation drops the "+": a French mobile read by a British operator stays French."""
    number = normalize("33612345678", "GB")
    assert (number.e164, number.region, number.number_type) == ("+33612345678", "FR", "mobile")
    crown = normalize("07781 123456", "GB")  # +44, but Guernsey's range
    assert (crown.e164, crown.region) == ("+447781123456", "GG")


@pytest.mark.parametrize(
    ("written", "issue"),
    [
        ("n/a", "not a phone number"),
        ("074001234567", "too long"),
        ("12345", "too short to dial in full (no area code?)"),
        ("07400 1234", "not in an allocated range, and a trunk prefix left in it"),
        ("+44 74OO 123456", "too short to dial in full (no area code?)"),
        ("   ", "empty"),
    ],
)
def test_a_value_that_cannot_be_a_number_says_why(written, issue):
    number = normalize(written, "GB")
    assert (number.e164, number.is_valid, number.issue) == (None, False, issue)


def test_an_unallocated_range_keeps_its_e164_and_says_so():
    """libphonenumber's metadata lags allocations: the operator's line is not dropped."""
    number = normalize("07700 900123", "GB")
    assert number.e164 == "+447700900123"
    assert not number.is_valid
    assert "not in a range" in (number.issue or "")


CDR_HEADER = "cdr_id,msisdn,called_number,event_time,service_type,call_result,network_element_id"


def _land_cdrs(landing: Path, batch_id: str, numbers: list[str]) -> Path:
    lines = [CDR_HEADER] + [
        f"C{batch_id}{i},{n},,2026-10-27T10:00:00Z,sms,answered,SMSC-1"
        for i, n in enumerate(numbers)
    ]
    content = ("\n".join(lines) + "\n").encode()
    manifest = land_file(
        landing, "cdr", "records", date(2026, 10, 27), batch_id, content, len(numbers)
    )
    assert manifest.path is not None
    return manifest.path


def _table(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select home_country, raw_value, e164, region, is_valid, issue"
        " from reference.phone_numbers order by 1, 2"
    ).fetchall()


def test_refresh_normalizes_each_new_value_once_per_home_country(landing, conn):
    loader = BatchLoader(conn)
    loader.load(_land_cdrs(landing, "b1", ["+44 7400 123456", "07400 123456", "n/a"]))
    first = refresh(conn, "GB")
    assert (first.normalized, first.total, first.not_numbers) == (3, 3, 1)
    assert refresh(conn, "GB").normalized == 0  # nothing new: nothing computed
    loader.load(_land_cdrs(landing, "b2", ["07400 123456", "447400123457"]))
    assert refresh(conn, "GB").normalized == 1
    assert refresh(conn, "FR").normalized == 4  # another profile reads every value afresh
    rows = {(c, raw): (e164, issue) for c, raw, e164, _, _, issue in _table(conn)}
    assert rows[("GB", "07400 123456")] == ("+447400123456", None)
    assert rows[("FR", "447400123457")] == ("+447400123457", None)
    assert rows[("GB", "n/a")] == (None, "not a phone number")


def test_lines_of_another_country_point_at_the_profile(landing, conn):
    """A French operator's feeds read with a British profile: the hint names the setting."""
    french = [f"3361234{i:04d}" for i in range(20)]
    BatchLoader(conn).load(_land_cdrs(landing, "fr", french))
    refresh(conn, "GB")
    fit = next(f for f in home_line_fit(conn, "GB") if f.column.label == "raw.cdr_records.msisdn")
    assert (fit.rows, fit.foreign, fit.not_numbers) == (20, 20, 0)
    hint = fit.hint("GB", "SDP_OPERATOR_COUNTRY")
    assert hint.startswith(
        "20 of 20 raw.cdr_records.msisdn values are not valid numbers for home country GB "
        "(numbers of FR 20): check SDP_OPERATOR_COUNTRY; samples: '33612340000'"
    )
    refresh(conn, "FR")
    fit = next(f for f in home_line_fit(conn, "FR") if f.column.label == "raw.cdr_records.msisdn")
    assert fit.misfits == 0
