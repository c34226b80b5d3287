"""Markets: the generator's per-country world is data, checked on load, and every number it
writes reads back, through the platform's own normalization, as the line the network knows."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from sdp.generator.clock import HOUR, Window
from sdp.generator.identity import malformed_phone
from sdp.generator.market import MARKETS, MarketError, load_market
from sdp.generator.scenario import ScenarioError, load_scenario
from sdp.numbering import normalize

SHIPPED = sorted(p.stem for p in MARKETS.glob("*.yaml"))


def test_every_shipped_market_loads_and_there_are_at_least_two() -> None:
    assert len(SHIPPED) >= 2
    countries = {load_market(name).country for name in SHIPPED}
    assert len(countries) == len(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_way_a_market_writes_a_line_normalizes_to_its_e164(name: str) -> None:
    market = load_market(name)
    numbering = market.numbering
    rng = random.Random(name)
    patterns = [p for _, p in numbering.typed] + [numbering.mediation, numbering.rating]
    for _ in range(200):
        nsn = numbering.mobile_first + rng.randrange(numbering.mobile_size)
        for pattern in patterns:
            written = numbering.styled(pattern, nsn)
            found = normalize(written, market.country)
            assert found.e164 == numbering.e164(nsn), (pattern, written, found)


@pytest.mark.parametrize("name", SHIPPED)
def test_a_malformed_phone_never_normalizes_to_the_line(name: str) -> None:
    market = load_market(name)
    numbering = market.numbering
    rng = random.Random(name)
    for _ in range(200):
        nsn = numbering.mobile_first + rng.randrange(numbering.mobile_size)
        written = malformed_phone(rng, numbering, nsn)
        assert normalize(written, market.country).e164 != numbering.e164(nsn), written


def _broken(tmp_path: Path, change: dict) -> Path:
    doc = yaml.safe_load((MARKETS / "gb.yaml").read_text(encoding="utf-8"))
    for dotted, value in change.items():
        *parents, leaf = dotted.split(".")
        node = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"country": "XX"}, "country: 'XX' is not an ISO 3166-1 alpha-2 country"),
        ({"ids.customer": "C{id}"}, "ids.customer: unknown placeholder(s) ['id']"),
        ({"numbering.mobile_first": 74}, "numbers must have the 10 digits of groups"),
        ({"timestamps.cdr": "local"}, "timestamps.cdr: expected one of z, offset, naive"),
        ({"plans": []}, "plans: no consumer plan"),
        ({"elements.msc": None}, "elements: missing msc"),
        ({"gl_accounts.sms": None}, "gl_accounts: expected one account for each of"),
    ],
)
def test_a_broken_market_names_the_file_the_key_and_the_reason(
    tmp_path: Path, change: dict, reason: str
) -> None:
    directory = _broken(tmp_path, change)
    with pytest.raises(MarketError) as caught:
        load_market("broken", directory)
    assert str(directory / "broken.yaml") in str(caught.value)
    assert reason in str(caught.value)


def test_an_unknown_market_lists_the_known_ones() -> None:
    with pytest.raises(MarketError, match=r"known: .*gb"):
        load_market("atlantis")


def test_a_scenario_whose_market_is_not_of_its_operators_country_is_refused(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "s.yaml"
    operators = Path(__file__).resolve().parents[1] / "scenarios" / "operators"
    scenario.write_text(
        f"name: s\nmarket: gb\noperator: {operators / 'fr-mobile.yaml'}\nseed: 1\n"
        "start: 2026-10-27\ndays: 2\ncustomers: 20\ntraffic: 1\ndefects: []\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="market gb is of GB but the operator profile's"):
        load_scenario(scenario)


def test_a_window_in_a_local_zone_writes_each_style_across_the_end_of_summer_time() -> None:
    """25 October 2026 in Paris: 02:00-03:00 happens twice, CEST (+02:00) then CET (+01:00);
    the generator's wall-clock moments read a repeated hour as its second occurrence, as
    PostgreSQL reads a local time without offset."""
    window = Window(
        date(2026, 10, 25),
        2,
        zone=ZoneInfo("Europe/Paris"),
        styles={"cdr": "offset", "packet_core": "z", "crm": "naive"},
        bill_run_cutoff_hour=4,
    )
    morning, repeated, afternoon = 1 * HOUR + 1800, 2 * HOUR + 1800, 15 * HOUR
    assert window.stamp("cdr", morning) == "2026-10-25T01:30:00+02:00"
    assert window.stamp("packet_core", morning) == "2026-10-24T23:30:00Z"
    assert window.stamp("cdr", repeated) == "2026-10-25T02:30:00+01:00"
    assert window.stamp("packet_core", repeated) == "2026-10-25T01:30:00Z"
    assert window.stamp("cdr", afternoon) == "2026-10-25T15:00:00+01:00"
    assert window.stamp("packet_core", afternoon) == "2026-10-25T14:00:00Z"
    assert window.stamp("crm", afternoon) == "2026-10-25 15:00:00"
    assert window.at(0).isoformat() == "2026-10-25T00:00:00+02:00"
