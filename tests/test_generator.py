"""The scenario generator: deterministic, contract-shaped feeds whose ground truth is exact.

Small worlds (a few hundred customers over the default week) keep each generation to about a
second; the assertions read the landed files back, as the platform would, and hold the ground
truth to what is actually in them.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from sdp.contracts import load_contract
from sdp.generator import generate
from sdp.generator.rating import billable_quantity, expected_amount, rate, round_money, tariff_at
from sdp.generator.scenario import DEFECT_KINDS, ScenarioError
from sdp.landing import MANIFEST_SUFFIX, iter_manifests, read_manifest
from sdp.numbering import normalize

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "default.yaml"
# the clean variants of both operators: the UK one and the French one (another market)
CLEAN = {"gb": ROOT / "scenarios" / "clean.yaml", "fr": ROOT / "scenarios" / "fr-clean.yaml"}
CUSTOMERS = 300
EMAIL = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("default")
    generate(DEFAULT, root, customers=CUSTOMERS)
    return root


@pytest.fixture(scope="module", params=sorted(CLEAN))
def clean_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp(f"clean-{request.param}")
    generate(CLEAN[request.param], root, customers=CUSTOMERS)
    return root


# -- reading the landing back ---------------------------------------------------------------------


def batches(root: Path, source: str, entity: str) -> Iterator[tuple[str, list[dict]]]:
    """(batch_id, rows) per batch; values as text (None when empty), as a loader sees them."""
    for path in iter_manifests(root, source, entity):
        manifest = read_manifest(path)
        text = manifest.data_path.read_text(encoding="utf-8")
        if manifest.format == "csv":
            rows = [
                {k: (v if v != "" else None) for k, v in row.items()}
                for row in csv.DictReader(text.splitlines())
            ]
        else:
            rows = [
                {k: None if v is None else str(v) for k, v in json.loads(line).items()}
                for line in text.splitlines()
            ]
        yield manifest.batch_id, rows


def rows(root: Path, source: str, entity: str) -> list[dict]:
    return [row for _, found in batches(root, source, entity) for row in found]


def latest(root: Path, source: str, entity: str) -> dict[str, dict]:
    """The entity's state after every batch: later batches update rows with the same key."""
    key = load_contract().entity(source, entity).key
    state: dict[str, dict] = {}
    for row in rows(root, source, entity):
        state["|".join(row[k] for k in key)] = row
    return state


def truth(root: Path) -> dict:
    return json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))


def incidents(root: Path, kind: str) -> list[dict]:
    return [i for i in truth(root)["incidents"] if i["kind"] == kind]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" ", "T"))


@functools.cache
def country(root: Path) -> str:
    return truth(root)["operator"]["country"]


def e164(text: str, home: str) -> str | None:
    """A number as people type it, in E.164 by the platform's own normalization (the one
    definition of numbers: a possible length, allocated or not); None when it is not a number
    of the home calling code."""
    found = normalize(text, home)
    code = f"+{phonenumbers.country_code_for_region(home)}"
    return found.e164 if found.e164 and found.e164.startswith(code) else None


def window_days(root: Path) -> list[date]:
    """The window's days, the operator's (the truth writes the window in its zone)."""
    first = at(truth(root)["window"]["start"]).date()
    return [first + timedelta(days=n) for n in range(truth(root)["sizes"]["days"])]


@dataclass(frozen=True)
class TariffRow:
    plan_code: str
    service_type: str
    unit_price: Decimal
    valid_from: date
    valid_to: date | None


def tariffs(root: Path) -> list[TariffRow]:
    return [
        TariffRow(
            r["plan_code"],
            r["service_type"],
            Decimal(r["unit_price"]),
            date.fromisoformat(r["valid_from"]),
            date.fromisoformat(r["valid_to"]) if r["valid_to"] else None,
        )
        for r in rows(root, "erp", "tariff_plans")
    ]


def local_date(root: Path, text: str) -> date:
    """The operator's date of a timestamp: with an offset converted to the profile's zone,
    without one already local."""
    moment = at(text)
    zone = ZoneInfo(truth(root)["operator"]["timezone"])
    return (moment.astimezone(zone) if moment.tzinfo else moment).date()


def rule_amount(root: Path, cdr: dict, plan: str, book: list[TariffRow]) -> Decimal | None:
    """What the DESIGN rating rule charges for a CDR on `plan` (the tariff of the operator's
    day of the event)."""
    on = local_date(root, cdr["event_time"])
    tariff = tariff_at(book, plan, cdr["service_type"], on)
    assert tariff is not None
    return expected_amount(
        cdr["service_type"],
        cdr["call_result"],
        int(cdr["duration_s"]) if cdr["duration_s"] else None,
        Decimal(cdr["volume_mb"]) if cdr["volume_mb"] else None,
        tariff.unit_price,
    )


def in_window(incident: dict, text: str) -> bool:
    window = incident["window"]
    return at(window["start"]) <= at(text) < at(window["end"])


def cdrs_by_id(root: Path) -> dict[str, dict]:
    return {row["cdr_id"]: row for row in rows(root, "cdr", "records")}


# -- determinism and the landing contract ---------------------------------------------------------


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_and_sizes_give_byte_identical_landings(
    default_run: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    generate(DEFAULT, again, customers=CUSTOMERS)
    first, second = tree(default_run), tree(again)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_another_seed_gives_another_world(default_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(DEFAULT, other, seed=7, customers=CUSTOMERS)
    assert tree(other)["ground_truth.json"] != tree(default_run)["ground_truth.json"]


def test_every_file_has_a_manifest_whose_sha256_and_rows_match(default_run: Path) -> None:
    data = [p for p in default_run.rglob("*") if p.suffix in (".csv", ".jsonl")]
    assert data
    assert not [p for p in default_run.rglob(".*") if p.is_file()]  # no temporary files left
    for path in data:
        manifest = read_manifest(path.with_name(path.name.rsplit(".", 1)[0] + MANIFEST_SUFFIX))
        body = path.read_bytes()
        assert manifest.file == path.name
        assert manifest.sha256 == hashlib.sha256(body).hexdigest()
        lines = body.decode("utf-8").splitlines()
        records = len(list(csv.reader(lines))) - 1 if path.suffix == ".csv" else len(lines)
        assert manifest.rows == records, path
        assert manifest.partition_date == path.parent.name.removeprefix("dt=")
        assert manifest.batch_id == path.name.rsplit(".", 1)[0]


def test_all_eleven_entities_land_with_the_contracts_required_columns(default_run: Path) -> None:
    contract = load_contract()
    assert len(contract.entities) == 11
    for entity in contract.entities:
        found = list(batches(default_run, entity.source, entity.name))
        assert found, f"no batch of {entity.qualified}"
        assert sum(len(r) for _, r in found) > 0, entity.qualified
        for batch_id, batch_rows in found:
            for row in batch_rows:
                missing = [c for c in entity.required if row.get(c) is None]
                assert not missing, f"{batch_id}: {missing}"


def test_landed_at_follows_the_partition_not_the_clock(clean_run: Path) -> None:
    for path in iter_manifests(clean_run):
        manifest = read_manifest(path)
        landed = at(manifest.landed_at)
        day = date.fromisoformat(manifest.partition_date)
        assert day < landed.date() <= day + timedelta(days=2), manifest.batch_id


def test_reference_data_is_a_snapshot_then_daily_changes(clean_run: Path) -> None:
    window = window_days(clean_run)
    start = window[0]
    daily = [("crm", "customers"), ("crm", "subscriptions"), ("billing", "accounts")]
    for source, entity in [*daily, ("oss", "provisioning")]:
        days = sorted(
            read_manifest(p).partition_date for p in iter_manifests(clean_run, source, entity)
        )
        assert days == [day.isoformat() for day in window], entity
        sizes = [len(r) for _, r in batches(clean_run, source, entity)]
        assert sizes[0] > 10 * max(sizes[1:]), entity
    for source, entity in [("erp", "tariff_plans"), ("oss", "network_elements")]:
        assert [
            read_manifest(p).partition_date for p in iter_manifests(clean_run, source, entity)
        ] == [start.isoformat()]


# -- realistic shapes -----------------------------------------------------------------------------


def test_voice_and_sms_land_as_csv_data_sessions_as_jsonl_never_both(default_run: Path) -> None:
    formats = {
        read_manifest(p).batch_id: read_manifest(p).format for p in iter_manifests(default_run)
    }
    by_format: dict[str, set[str]] = defaultdict(set)
    for batch_id, found in batches(default_run, "cdr", "records"):
        fmt = formats[batch_id]
        services = {row["service_type"] for row in found}
        assert services == {"data"} if fmt == "jsonl" else "data" not in services
        assert ("-pgw-" in batch_id) == (fmt == "jsonl")
        by_format[fmt] |= {row["cdr_id"] for row in found}
    assert by_format["csv"] and by_format["jsonl"]
    assert not by_format["csv"] & by_format["jsonl"]


def test_msisdns_are_e164_on_the_network_and_typed_in_crm_and_billing(default_run: Path) -> None:
    assert all(
        re.fullmatch(r"\+447\d{9}", r["msisdn"]) for r in rows(default_run, "cdr", "records")
    )
    assert all(
        re.fullmatch(r"\+447\d{9}", r["msisdn"]) for r in rows(default_run, "oss", "provisioning")
    )
    typed = [r["msisdn"] for r in rows(default_run, "crm", "subscriptions")]
    shapes = Counter(re.sub(r"\d", "9", m) for m in typed)
    assert len(shapes) >= 5
    assert all(e164(m, country(default_run)) for m in typed)
    billed = [
        m
        for r in rows(default_run, "billing", "accounts")
        if r["msisdns"]
        for m in r["msisdns"].split(";")
    ]
    assert len(Counter(re.sub(r"\d", "9", m) for m in billed)) >= 5


def test_topology_regions_sites_core_elements_and_cells(default_run: Path) -> None:
    elements = {r["network_element_id"]: r for r in rows(default_run, "oss", "network_elements")}
    types = Counter(r["element_type"] for r in elements.values())
    assert {"msc", "smsc", "sgsn", "pgw", "enodeb", "gnodeb"} <= set(types)
    for element in elements.values():
        if element["element_type"] in ("enodeb", "gnodeb"):
            parent = elements[element["parent_element_id"]]
            assert parent["element_type"] == "msc" and parent["region"] == element["region"]
    cdr_elements = {r["network_element_id"] for r in rows(default_run, "cdr", "records")}
    assert {elements[e]["element_type"] for e in cdr_elements} == {"msc", "smsc", "pgw"}


def test_traffic_has_a_night_trough_an_evening_peak_and_a_call_result_mix(clean_run: Path) -> None:
    cdrs = rows(clean_run, "cdr", "records")
    hours = Counter(at(r["event_time"]).hour for r in cdrs)
    assert hours[3] * 10 < hours[19]
    voice = [r for r in cdrs if r["service_type"] == "voice"]
    results = Counter(r["call_result"] for r in voice)
    assert set(results) == {"answered", "busy", "no_answer", "failed", "dropped"}
    assert results["answered"] > 0.7 * len(voice)
    assert all(int(r["duration_s"]) > 0 for r in voice if r["call_result"] == "dropped")
    assert all(
        int(r["duration_s"]) == 0 for r in voice if r["call_result"] in ("busy", "no_answer")
    )
    shares = Counter(r["service_type"] for r in cdrs)
    assert shares["data"] > shares["voice"] > shares["sms"]
    lines = {r["msisdn"] for r in rows(clean_run, "oss", "provisioning") if r["status"] == "active"}
    sizes = truth(clean_run)["sizes"]
    per_line_and_day = len(cdrs) / len(lines) / sizes["days"]
    assert 0.75 < per_line_and_day / sizes["traffic"] < 1.25  # the scenario's traffic


def test_a_price_changes_inside_the_window(clean_run: Path) -> None:
    book = tariffs(clean_run)
    changed = [
        (a, b)
        for a in book
        for b in book
        if (a.plan_code, a.service_type) == (b.plan_code, b.service_type)
        and a.valid_to == b.valid_from
    ]
    assert changed
    window = window_days(clean_run)
    assert all(window[0] < b.valid_from <= window[-1] for _, b in changed)
    assert all(a.unit_price != b.unit_price for a, b in changed)


def test_billing_accounts_hold_the_crm_customer_typed_differently(clean_run: Path) -> None:
    customers = latest(clean_run, "crm", "customers")
    accounts = latest(clean_run, "billing", "accounts")
    pairs = truth(clean_run)["duplicates"]["crm_billing"]
    assert {account for _, account in pairs} == set(accounts)
    typed_differently = 0
    for customer_id, account_id in pairs:
        customer, account = customers[customer_id], accounts[account_id]
        assert customer["email"].lower() == account["email"].lower()
        home = country(clean_run)
        assert e164(customer["phone"], home) == e164(account["phone"], home)
        name = f"{customer['first_name']} {customer['last_name']}"
        typed_differently += (name, customer["phone"], customer["postcode"]) != (
            account["holder_name"],
            account["phone"],
            account["postcode"],
        )
    assert typed_differently > len(pairs) // 2
    assert any(not c["first_name"].isascii() for c in customers.values())


# -- the clean scenario ---------------------------------------------------------------------------


def test_clean_scenario_has_no_incidents_and_no_duplicates(clean_run: Path) -> None:
    body = truth(clean_run)
    assert body["incidents"] == []
    assert body["duplicates"]["crm_crm"] == []
    assert len({a for a, _ in body["duplicates"]["crm_billing"]}) == len(
        latest(clean_run, "crm", "customers")
    )


def test_clean_every_billable_cdr_is_billed_once_on_time_at_the_rules_price(
    clean_run: Path,
) -> None:
    book = tariffs(clean_run)
    usage = rows(clean_run, "billing", "usage")
    by_cdr = Counter(u["cdr_id"] for u in usage)
    assert set(by_cdr.values()) == {1}
    rated = {u["cdr_id"]: u for u in usage}
    cdrs = cdrs_by_id(clean_run)
    billable = 0
    for cdr_id, cdr in cdrs.items():
        row = rated.get(cdr_id)
        if row is None:
            assert rule_amount(clean_run, cdr, book[0].plan_code, book) is None, cdr_id
            continue
        billable += 1
        assert Decimal(row["rated_amount"]) == rule_amount(
            clean_run, cdr, row["plan_code"], book
        ), cdr_id
        delay = at(row["rated_at"]) - at(cdr["event_time"])
        assert timedelta(0) < delay <= timedelta(hours=24)
    assert billable == len(usage)
    assert set(rated) <= set(cdrs)


def test_clean_systems_agree_on_every_line(clean_run: Path) -> None:
    provisioning = latest(clean_run, "oss", "provisioning")
    subscriptions = latest(clean_run, "crm", "subscriptions")
    home = country(clean_run)
    crm = {e164(s["msisdn"], home): s for s in subscriptions.values()}
    assert set(crm) == set(provisioning)
    status = {"active": "active", "suspended": "barred", "terminated": "deprovisioned"}
    for msisdn, line in provisioning.items():
        assert crm[msisdn]["plan_code"] == line["plan_code"]
        assert status[crm[msisdn]["status"]] == line["status"]
    billed = {
        e164(m, home)
        for a in latest(clean_run, "billing", "accounts").values()
        if a["msisdns"]
        for m in a["msisdns"].split(";")
    }
    on_network = {m for m, line in provisioning.items() if line["status"] != "deprovisioned"}
    assert billed == on_network


def test_clean_contact_data_is_valid(clean_run: Path) -> None:
    for customer in latest(clean_run, "crm", "customers").values():
        assert EMAIL.match(customer["email"]), customer
        assert e164(customer["phone"], country(clean_run)), customer


def test_clean_gl_ties_out_to_the_invoices(clean_run: Path) -> None:
    invoices = rows(clean_run, "billing", "invoices")
    postings: dict[str, Decimal] = defaultdict(Decimal)  # a stream may be posted per segment
    for posting in rows(clean_run, "erp", "gl_revenue"):
        postings[posting["revenue_stream"]] += Decimal(posting["amount"])
    assert postings["recurring"] == sum(Decimal(i["recurring_amount"]) for i in invoices)
    assert postings["voice"] + postings["sms"] + postings["data"] == sum(
        Decimal(i["usage_amount"]) for i in invoices
    )
    october: dict[str, Decimal] = defaultdict(Decimal)
    # the usage a bill run takes, by the operator's convention (the cut-off is early enough
    # that every usage of an October event is rated before it on a clean run)
    basis = truth(clean_run)["operator"]["invoice_usage_by"]
    for usage in rows(clean_run, "billing", "usage"):
        if local_date(clean_run, usage[basis]).strftime("%Y-%m") == "2026-10":
            october[usage["service_type"]] += Decimal(usage["rated_amount"])
    assert {s: postings[s] for s in october} == dict(october)
    for invoice in invoices:
        base = Decimal(invoice["recurring_amount"]) + Decimal(invoice["usage_amount"])
        assert Decimal(invoice["tax_amount"]) == round_money(base * Decimal("0.2"))
        assert Decimal(invoice["total_amount"]) == base + Decimal(invoice["tax_amount"])
        assert invoice["period"] == "2026-10" and invoice["issue_date"] == "2026-11-01"


# -- ground truth against the files of the default scenario ---------------------------------------


def test_default_has_every_defect_kind_with_a_complete_incident(default_run: Path) -> None:
    body = truth(default_run)
    assert set(body) >= {"scenario", "seed", "sizes", "window", "incidents", "duplicates"}
    kinds = {i["kind"] for i in body["incidents"]}
    assert kinds == set(DEFECT_KINDS) and len(kinds) == 12
    for incident in body["incidents"]:
        assert set(incident) >= {
            *("id", "kind", "source", "entity", "dimensions", "window"),
            *("rows_affected", "revenue_impact", "impact_basis"),
        }
        assert set(incident["dimensions"]) == {
            "network_element_id",
            "region",
            "plan_code",
            "service_type",
        }
        assert re.fullmatch(r"-?\d+\.\d{4}", incident["revenue_impact"])
        assert incident["rows_affected"] > 0, incident["id"]
        assert at(incident["window"]["start"]) < at(incident["window"]["end"])
    assert body["skipped"] == []


def test_dropped_element_has_no_cdrs_in_the_window_and_a_critical_alarm(default_run: Path) -> None:
    (drop,) = incidents(default_run, "cdr_drop")
    element = drop["dimensions"]["network_element_id"]
    mine = [r for r in rows(default_run, "cdr", "records") if r["network_element_id"] == element]
    assert not [r for r in mine if in_window(drop, r["event_time"])]
    day = drop["window"]["start"][:10]
    assert any(r["event_time"].startswith(day) for r in mine)  # the element works around it
    day_ids = [r["cdr_id"] for r in mine if r["event_time"].startswith(day)]
    numbers = sorted(int(cdr_id.rsplit("-", 1)[1]) for cdr_id in day_ids)
    assert numbers[-1] - len(numbers) == drop["rows_affected"]  # the gap in the sequence
    alarm = latest(default_run, "oss", "alarms")[drop["detail"]["alarm_id"]]
    assert (alarm["network_element_id"], alarm["severity"]) == (element, "critical")
    assert at(alarm["raised_at"]) <= at(drop["window"]["start"])
    assert at(alarm["cleared_at"]) >= at(drop["window"]["end"])
    assert Decimal(drop["revenue_impact"]) > 0


def test_replayed_cdrs_are_duplicated_and_billed_twice(default_run: Path) -> None:
    (replay,) = incidents(default_run, "mediation_replay")
    (replay_batch,) = replay["detail"]["replay_batch_ids"]
    seen: Counter[str] = Counter()
    replayed: list[str] = []
    for batch_id, found in batches(default_run, "cdr", "records"):
        seen.update(r["cdr_id"] for r in found)
        if batch_id == replay_batch:
            replayed = [r["cdr_id"] for r in found]
    originals = {json.dumps(r, sort_keys=True) for r in rows(default_run, "cdr", "records")}
    assert len(originals) == len(seen)  # the copies are exact
    duplicated = [c for c, n in seen.items() if n > 1]
    assert len(duplicated) == len(replayed) == replay["rows_affected"]
    usage = rows(default_run, "billing", "usage")
    twice = Counter(u["cdr_id"] for u in usage)
    extra = [u for u in usage if twice[u["cdr_id"]] > 1]
    assert {u["cdr_id"] for u in extra} <= set(duplicated)
    assert len(extra) // 2 == replay["detail"]["usage_rows"]
    assert sum(Decimal(u["rated_amount"]) for u in extra) / 2 == Decimal(replay["revenue_impact"])


def test_wrong_tariff_rows_are_exactly_the_incidents(default_run: Path) -> None:
    (wrong,) = incidents(default_run, "wrong_tariff")
    book = tariffs(default_run)
    cdrs = cdrs_by_id(default_run)
    differing = []
    for usage in rows(default_run, "billing", "usage"):
        expected = rule_amount(default_run, cdrs[usage["cdr_id"]], usage["plan_code"], book)
        assert expected is not None  # billing rates billable CDRs only
        if Decimal(usage["rated_amount"]) != expected:
            differing.append((usage, Decimal(usage["rated_amount"]) - expected))
    assert len(differing) == wrong["rows_affected"]
    assert sum(diff for _, diff in differing) == Decimal(wrong["revenue_impact"])
    for usage, _ in differing:
        assert usage["plan_code"] == wrong["dimensions"]["plan_code"]
        assert usage["service_type"] == wrong["dimensions"]["service_type"]
        assert in_window(wrong, usage["event_time"])
        assert rate(
            Decimal(usage["quantity"]), Decimal(wrong["detail"]["wrong_unit_price"])
        ) == Decimal(usage["rated_amount"])


def test_unbilled_cdrs_have_no_usage(default_run: Path) -> None:
    (unbilled,) = incidents(default_run, "unbilled_usage")
    book = tariffs(default_run)
    usage = rows(default_run, "billing", "usage")
    billed = {u["cdr_id"] for u in usage}
    plans = {}
    for sub in latest(default_run, "crm", "subscriptions").values():
        plans[e164(sub["msisdn"], country(default_run))] = sub["plan_code"]
    dims = unbilled["dimensions"]
    missing = []
    for cdr in rows(default_run, "cdr", "records"):
        if (
            not in_window(unbilled, cdr["event_time"])
            or cdr["service_type"] != dims["service_type"]
        ):
            continue
        if plans.get(cdr["msisdn"]) != dims["plan_code"]:
            continue
        amount = rule_amount(default_run, cdr, dims["plan_code"], book)
        if amount is not None:
            assert cdr["cdr_id"] not in billed
            missing.append(amount)
    assert len(missing) == unbilled["rows_affected"]
    assert sum(missing) == Decimal(unbilled["revenue_impact"])


def test_late_usage_rows_are_counted(default_run: Path) -> None:
    (late,) = incidents(default_run, "late_billing")
    usage = rows(default_run, "billing", "usage")
    overdue = [u for u in usage if at(u["rated_at"]) - at(u["event_time"]) > timedelta(hours=24)]
    assert len(overdue) == late["rows_affected"]
    assert sum(Decimal(u["rated_amount"]) for u in overdue) == Decimal(late["revenue_impact"])
    late_batches = dict(batches(default_run, "billing", "usage"))
    (batch_id,) = late["detail"]["late_batch_ids"]
    assert {u["usage_id"] for u in late_batches[batch_id]} == {u["usage_id"] for u in overdue}


def test_unbilled_provisioning_lines_are_on_the_network_and_on_no_account(
    default_run: Path,
) -> None:
    found = incidents(default_run, "unbilled_provisioning")
    ghosts = {m for i in found for m in i["detail"]["msisdns"]}
    provisioning = latest(default_run, "oss", "provisioning")
    billed = {
        e164(m, country(default_run))
        for a in latest(default_run, "billing", "accounts").values()
        if a["msisdns"]
        for m in a["msisdns"].split(";")
    }
    active = {m for m, line in provisioning.items() if line["status"] == "active"}
    assert active - billed == ghosts
    assert sum(i["rows_affected"] for i in found) == len(ghosts)
    crm = {
        e164(s["msisdn"], country(default_run))
        for s in latest(default_run, "crm", "subscriptions").values()
    }
    for incident in found:
        in_crm = set(incident["detail"]["msisdns"]) & crm
        assert in_crm == (
            set() if incident["detail"]["missing_from"] == "crm_and_billing" else in_crm
        )
        if incident["detail"]["missing_from"] == "billing":
            assert in_crm == set(incident["detail"]["msisdns"])
    with_traffic = {r["msisdn"] for r in rows(default_run, "cdr", "records")}
    assert ghosts <= with_traffic
    usage_msisdns = {"+" + u["msisdn"] for u in rows(default_run, "billing", "usage")}
    assert not ghosts & usage_msisdns
    for incident in found:
        recurring = Decimal(incident["detail"]["recurring_amount"])
        usage_amount = Decimal(incident["detail"]["usage_amount"])
        assert recurring + usage_amount == Decimal(incident["revenue_impact"])
        assert recurring > 0 and usage_amount > 0


def test_subscription_mismatches_are_where_the_truth_says(default_run: Path) -> None:
    found = {i["detail"]["variant"]: i for i in incidents(default_run, "subscription_mismatch")}
    provisioning = latest(default_run, "oss", "provisioning")
    crm = {
        e164(s["msisdn"], country(default_run)): s
        for s in latest(default_run, "crm", "subscriptions").values()
    }
    plan = {
        m
        for m, line in provisioning.items()
        if m in crm and crm[m]["plan_code"] != line["plan_code"]
    }
    assert plan == set(found["plan_mismatch"]["detail"]["msisdns"])
    status = {
        m
        for m, line in provisioning.items()
        if m in crm and crm[m]["status"] == "suspended" and line["status"] == "active"
    }
    assert status == set(found["status_mismatch"]["detail"]["msisdns"])
    billed = {
        e164(m, country(default_run))
        for a in latest(default_run, "billing", "accounts").values()
        if a["msisdns"]
        for m in a["msisdns"].split(";")
    }
    assert billed - set(provisioning) == set(found["billed_not_on_network"]["detail"]["msisdns"])
    cdr_msisdns = {r["msisdn"] for r in rows(default_run, "cdr", "records")}
    assert not cdr_msisdns & set(found["billed_not_on_network"]["detail"]["msisdns"])
    assert set(found["status_mismatch"]["detail"]["msisdns"]) <= cdr_msisdns
    for variant, incident in found.items():
        assert incident["rows_affected"] == len(incident["detail"]["msisdns"]), variant


def test_gl_mismatches_are_the_only_differences_from_the_invoices(default_run: Path) -> None:
    invoices = rows(default_run, "billing", "invoices")
    postings = {
        p["revenue_stream"]: Decimal(p["amount"]) for p in rows(default_run, "erp", "gl_revenue")
    }
    found = {i["detail"]["revenue_stream"]: i for i in incidents(default_run, "gl_mismatch")}
    assert Decimal(found["sms"]["detail"]["invoiced"]) and "sms" not in postings
    recurring = sum(Decimal(i["recurring_amount"]) for i in invoices)
    assert postings["recurring"] == recurring
    usage_total = sum(Decimal(i["usage_amount"]) for i in invoices)
    invoiced = {s: Decimal(i["detail"]["invoiced"]) for s, i in found.items()}
    assert postings["voice"] + invoiced["sms"] + invoiced["data"] == usage_total
    for stream_name, incident in found.items():
        posted = postings.get(stream_name, Decimal(0))
        assert invoiced[stream_name] - posted == Decimal(incident["revenue_impact"])
        assert incident["rows_affected"] == 1


def test_duplicate_customers_are_in_crm_with_typos(default_run: Path) -> None:
    customers = latest(default_run, "crm", "customers")
    pairs = truth(default_run)["duplicates"]["crm_crm"]
    assert len(pairs) == sum(
        i["rows_affected"] for i in incidents(default_run, "duplicate_customers")
    )
    for a, b in pairs:
        first, second = customers[a], customers[b]
        assert first["customer_id"] != second["customer_id"]
        assert (first["first_name"], first["last_name"]) != (
            second["first_name"],
            second["last_name"],
        )
        assert e164(first["phone"], country(default_run)) == e164(
            second["phone"], country(default_run)
        ) or not e164(first["phone"], country(default_run))
        assert first["phone"] != second["phone"]
    linked = {a for a, _ in truth(default_run)["duplicates"]["crm_billing"]}
    assert {b for _, b in pairs} <= linked


def test_bad_contact_burst_matches_its_rows(default_run: Path) -> None:
    (bad,) = incidents(default_run, "bad_contact_data")
    day = bad["window"]["start"][:10]
    (burst,) = [r for b, r in batches(default_run, "crm", "customers") if day.replace("-", "") in b]
    broken_emails = {r["customer_id"] for r in burst if not EMAIL.match(r["email"] or "")}
    broken_phones = {
        r["customer_id"] for r in burst if not e164(r["phone"] or "", country(default_run))
    }
    assert broken_emails == set(bad["detail"]["invalid_emails"])
    assert broken_phones == set(bad["detail"]["malformed_phones"])
    assert len(broken_emails) + len(broken_phones) == bad["rows_affected"]
    others = [
        r
        for b, found in batches(default_run, "crm", "customers")
        if day.replace("-", "") not in b
        for r in found
    ]
    assert all(EMAIL.match(r["email"]) and e164(r["phone"], country(default_run)) for r in others)


def test_late_batch_lands_late_with_its_rows(default_run: Path) -> None:
    (late,) = incidents(default_run, "late_batch")
    (path,) = [
        p
        for p in iter_manifests(default_run)
        if read_manifest(p).batch_id == late["detail"]["batch_id"]
    ]
    manifest = read_manifest(path)
    assert manifest.rows == late["rows_affected"]
    delay = at(manifest.landed_at) - at(late["detail"]["expected_landed_at"])
    assert delay == timedelta(hours=late["detail"]["delay_hours"])
    siblings = [
        read_manifest(p)
        for p in iter_manifests(default_run, "cdr", "records", manifest.partition_date)
    ]
    usual = {
        m.landed_at
        for m in siblings
        if m.batch_id != manifest.batch_id and m.batch_id.endswith("-001")
    }
    assert usual == {late["detail"]["expected_landed_at"]}


def test_schema_drift_renames_and_adds_columns_from_its_day(default_run: Path) -> None:
    (drift,) = incidents(default_run, "schema_drift")
    renamed = drift["detail"]["renamed"]
    drifted = 0
    for batch_id, found in batches(default_run, "cdr", "records"):
        if batch_id in drift["detail"]["batch_ids"]:
            drifted += len(found)
            for row in found:
                assert set(renamed.values()) | set(drift["detail"]["added"]) <= set(row)
                assert not set(renamed) & set(row)
        else:
            assert all("cell_identity" not in row for row in found)
    assert drifted == drift["rows_affected"]


def test_a_short_window_skips_what_falls_outside_it(tmp_path: Path) -> None:
    messages: list[str] = []
    result = generate(DEFAULT, tmp_path, customers=200, days=2, log=messages.append)
    body = truth(tmp_path)
    skipped = {s["id"] for s in body["skipped"]}
    assert "drop-msc-nwe" in skipped and "gl-data-short" in skipped
    assert "replay-pgw-mid" not in skipped
    assert {i["id"].split(".")[0] for i in body["incidents"]}.isdisjoint(skipped)
    assert any("skipped" in m for m in messages)
    assert result.rows["cdr_records"] > 0 and result.batches > 0


# -- the rating rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "result", "duration", "volume", "quantity"),
    [
        ("voice", "answered", 61, None, Decimal(2)),
        ("voice", "answered", 60, None, Decimal(1)),
        ("voice", "answered", 1, None, Decimal(1)),
        ("voice", "answered", 0, None, None),
        ("voice", "busy", 30, None, None),
        ("voice", "no_answer", 0, None, None),
        ("voice", "failed", 12, None, None),
        ("voice", "dropped", 125, None, Decimal(3)),
        ("voice", "dropped", 0, None, None),
        ("sms", "failed", None, None, Decimal(1)),
        ("data", "dropped", 30, Decimal("12.345"), Decimal("12.345")),
    ],
)
def test_billable_quantity(
    service: str,
    result: str,
    duration: int | None,
    volume: Decimal | None,
    quantity: Decimal | None,
) -> None:
    assert billable_quantity(service, result, duration, volume) == quantity


def test_amounts_round_half_up_at_the_fifth_decimal() -> None:
    assert round_money(Decimal("0.00025")) == Decimal("0.0003")  # banker's would give 0.0002
    assert round_money(Decimal("0.00015")) == Decimal("0.0002")
    assert round_money(Decimal("0.000249")) == Decimal("0.0002")
    assert rate(Decimal("12.345"), Decimal("0.0125")) == Decimal("0.1543")  # 0.1543125
    assert rate(Decimal("0.01"), Decimal("0.0050")) == Decimal("0.0001")  # 0.00005 rounds up


def test_the_tariff_valid_at_the_event_date_applies() -> None:
    book = [
        TariffRow("P", "voice", Decimal("0.10"), date(2026, 1, 1), date(2026, 10, 30)),
        TariffRow("P", "voice", Decimal("0.12"), date(2026, 10, 30), None),
    ]
    before, after = (tariff_at(book, "P", "voice", date(2026, 10, d)) for d in (29, 30))
    assert before is not None and before.unit_price == Decimal("0.10")
    assert after is not None and after.unit_price == Decimal("0.12")  # valid_to is exclusive
    assert tariff_at(book, "P", "sms", date(2026, 10, 30)) is None


# -- scenario validation --------------------------------------------------------------------------


DROP = "kind: cdr_drop, network_element_id: MSC-LON-01"
BROKEN = [
    ("{kind: cdr_flood}", "unknown defect kind 'cdr_flood'"),
    ("{kind: cdr_drop, day: 2, start: '10:00', hours: 2}", "missing parameter network_element_id"),
    (f"{{{DROP}, day: 2, start: 10:00, hours: 2}}", "start must be a string"),
    (f"{{{DROP}, day: two, start: '10:00', hours: 2}}", "day must be an integer"),
    (
        "{kind: wrong_tariff, plan_code: GOLD, service_type: voice, day: 2, unit_price: '0.1'}",
        "plan_code 'GOLD' is not in market gb's catalogue",
    ),
    (
        "{kind: late_billing, plan_code: BIZ-PRO, day: 1, start: '00:00', hours: 4, "
        "delay_hours: 12}",
        "delay_hours must exceed 24",
    ),
    (
        "{kind: schema_drift, source: cdr, entity: records, day: 2, rename: {cdr_id: id}}",
        "'cdr_id' is required",
    ),
    (
        "{kind: gl_mismatch, revenue_stream: roaming, mode: missing}",
        "revenue_stream must be one of",
    ),
    ("{kind: bad_contact_data, day: 2, emails: 3, colour: red}", "unknown parameter(s) colour"),
]


@pytest.mark.parametrize(("defect", "reason"), BROKEN)
def test_scenario_errors_name_the_file_the_defect_and_the_reason(
    tmp_path: Path, defect: str, reason: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "name: broken\nseed: 1\nstart: 2026-10-27\ndays: 7\ncustomers: 100\ntraffic: 12\n"
        f"defects:\n  - {defect}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        generate(path, tmp_path / "landing")
    message = str(caught.value)
    assert str(path) in message and "defect" in message and reason in message
    assert not (tmp_path / "landing").exists()


def test_world_dependent_errors_are_raised_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "unknown-element.yaml"
    path.write_text(
        "name: x\nseed: 1\nstart: 2026-10-27\ndays: 3\ncustomers: 100\ntraffic: 12\ndefects:\n"
        "  - {id: gone, kind: cdr_drop, network_element_id: MSC-XXX-09, day: 1, start: '01:00',"
        " hours: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ScenarioError, match=r"defect 'gone' \(cdr_drop\): 'MSC-XXX-09' is not a mediated"
    ):
        generate(path, tmp_path / "landing")
    assert not (tmp_path / "landing").exists()
