"""The records Zingg compares, exported from the warehouse's staging tables.

People type the same person differently in CRM and billing: case, accents, initials, street
abbreviations. Those variations carry no identity, so they are folded away before Zingg sees
the fields; what is left (typos, swapped or missing values) is what Zingg learns to judge.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from psycopg import Connection

from sdp.zingg.passes import BLOCK_FIELD

MATCH_FIELDS = (
    "record_id",
    BLOCK_FIELD,  # set per copy by the blocking passes (sdp.zingg.passes)
    "first_name",
    "last_name",
    # both names' words in alphabetical order: a person entered surname first still agrees here
    "name_words",
    "dob",
    "email",
    "phone",
    "address",
    "city",
    "postcode",
)
# billing has no date of birth and holds one name (its account holder), so the link compares
# what both systems hold: the full name, never a first and last name guessed by splitting it
LINK_FIELDS = (
    "record_id",
    BLOCK_FIELD,
    "name",
    "email",
    "phone",
    "address",
    "city",
    "postcode",
)

_STREET_WORDS = {
    "rd": "road",
    "st": "street",
    "cl": "close",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "cres": "crescent",
    "ct": "court",
    "pl": "place",
    "gdns": "gardens",
    "sq": "square",
    "tce": "terrace",
    "grn": "green",
    "pk": "park",
    "hse": "house",
}
_NON_WORD = re.compile(r"[^a-z0-9@.+ ]+")
_SPACES = re.compile(r"\s+")


def fold(value: str | None) -> str:
    """Lower case, no accents, single spaces, no punctuation but what emails need."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("ø", "o").replace("ß", "ss").replace("æ", "ae").replace("ł", "l")
    return _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()


def fold_name(value: str | None) -> str:
    return fold(value).replace(".", "").strip()


def fold_address(value: str | None) -> str:
    words = fold(value).replace(".", " ").split()
    return " ".join(_STREET_WORDS.get(w, w) for w in words)


def crm_record(
    record_id: str,
    first: str | None,
    last: str | None,
    dob: date | None,
    email: str | None,
    phone: str | None,
    address: str | None,
    city: str | None,
    postcode: str | None,
) -> dict[str, str]:
    """A CRM customer as Zingg compares it (every field, for either model)."""
    first_name, last_name = fold_name(first), fold_name(last)
    return {
        "record_id": record_id,
        BLOCK_FIELD: "",
        "first_name": first_name,
        "last_name": last_name,
        "name": f"{first_name} {last_name}".strip(),
        "name_words": " ".join(sorted(f"{first_name} {last_name}".split())),
        "dob": dob.isoformat() if dob else "",
        "email": (email or "").strip().lower(),
        "phone": phone or "",
        "address": fold_address(address),
        "city": fold(city),
        "postcode": fold(postcode).replace(" ", ""),
    }


def billing_record(
    record_id: str,
    holder: str | None,
    email: str | None,
    phone: str | None,
    address: str | None,
    city: str | None,
    postcode: str | None,
) -> dict[str, str]:
    """A billing account as the link compares it: the holder's name whole, as billing has it
    ("Mary Anne Smith", "M. Smith", "García López"; a company's name has no surname at all)."""
    return {
        "record_id": record_id,
        BLOCK_FIELD: "",
        "name": fold_name(holder),
        "email": (email or "").strip().lower(),
        "phone": phone or "",
        "address": fold_address(address),
        "city": fold(city),
        "postcode": fold(postcode).replace(" ", ""),
    }


def crm_records(conn: Connection, fields: tuple[str, ...]) -> Iterator[dict[str, str]]:
    rows = conn.execute(
        "select customer_id, first_name, last_name, date_of_birth, email,"
        " coalesce(phone_e164, phone_raw), address_line, city, postcode"
        " from staging.stg_crm__customers order by customer_id"
    )
    for row in rows:
        record = crm_record(*row)
        yield {f: record[f] for f in fields}


def billing_records(conn: Connection) -> Iterator[dict[str, str]]:
    rows = conn.execute(
        "select account_id, holder_name, email, coalesce(phone_e164, phone_raw),"
        " billing_address, city, postcode from staging.stg_billing__accounts order by account_id"
    )
    for row in rows:
        yield billing_record(*row)


def write_csv(path: Path, fields: tuple[str, ...], records: Iterable[dict[str, str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields))
        writer.writeheader()
        for record in records:
            writer.writerow(record)
            count += 1
    return count
