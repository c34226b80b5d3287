"""Multi-pass blocking: a record reaches Zingg once per key, and its copies' clusters join."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from sdp.zingg.blocking import Blocks
from sdp.zingg.configs import CONFIG_DIR, ZinggConfigError, load_model
from sdp.zingg.passes import BLOCK_FIELD, BlockingPass, Components, original_id, replicate
from sdp.zingg.pipeline import merge_copies
from sdp.zingg.samples import namesakes

PASSES = (
    BlockingPass("postcode", "postcode", "value"),
    BlockingPass("last_name", "last_name", "sounds"),
)


def test_a_record_is_copied_once_per_pass_that_has_a_key_for_it():
    copies = list(
        replicate([{"record_id": "C~1", "postcode": "75011", "last_name": "smith"}], PASSES)
    )
    assert [(c["record_id"], c[BLOCK_FIELD]) for c in copies] == [
        ("C~1~postcode", "postcode:75011"),
        ("C~1~last_name", "last_name:S530"),
    ]
    # an id holding the separator comes back whole
    assert {original_id(c["record_id"]) for c in copies} == {"C~1"}


def test_names_that_sound_alike_share_a_block_and_a_record_with_no_key_still_goes_to_zingg():
    records = [
        {"record_id": "a", "postcode": "", "last_name": "smith"},
        {"record_id": "b", "postcode": "", "last_name": "smyth"},
        {"record_id": "c", "postcode": "", "last_name": ""},
    ]
    blocks = {c["record_id"]: c[BLOCK_FIELD] for c in replicate(records, PASSES)}
    assert blocks["a~last_name"] == blocks["b~last_name"]
    assert blocks["c~none"] == "none:"


def test_without_passes_the_records_go_to_zingg_as_they_are():
    records = [{"record_id": "a", "postcode": "1"}]
    assert list(replicate(records, ())) == records


def test_clusters_that_share_a_record_are_one_and_the_smallest_id_names_it():
    components = Components()
    components.join(["b", "c"])
    components.join(["d", "a"])
    components.join(["c", "d"])
    assert {components.find(x) for x in "abcd"} == {"a"} and components.find("e") == "e"


def test_copies_come_back_as_one_record_per_customer_with_their_clusters_joined():
    model = load_model("match")
    assert model.passes, "the shipped match model blocks in several passes"
    first, second = model.passes[0].name, model.passes[1].name
    rows = [  # a~ and b~ met in the first pass, b~ and c~ in the second; d~ is under the floor
        {"record_id": f"a~{first}", "z_cluster": "1", "z_minScore": "0.9", "z_maxScore": "0.9"},
        {"record_id": f"b~{first}", "z_cluster": "1", "z_minScore": "0.9", "z_maxScore": "0.9"},
        {"record_id": f"b~{second}", "z_cluster": "7", "z_minScore": "0.7", "z_maxScore": "0.8"},
        {"record_id": f"c~{second}", "z_cluster": "7", "z_minScore": "0.8", "z_maxScore": "0.8"},
        {"record_id": f"d~{second}", "z_cluster": "7", "z_minScore": "0.1", "z_maxScore": "0.2"},
    ]
    merged = {r[0]: r[1:] for r in merge_copies(rows, model)}
    assert merged["a"][0] == merged["b"][0] == merged["c"][0] == "cluster:a"
    assert merged["d"][0] == "solo:d"
    assert merged["d"][1] == merged["a"][1]  # Zingg's cluster ignores the floor: reviewable
    assert merged["b"][2:] == (0.7, 0.9)  # lowest and best over its copies


def test_a_pair_is_compared_when_its_records_share_the_block_of_any_pass():
    blocks = Blocks(
        {
            ("crm", "a"): frozenset({"postcode:1", "dob:x"}),
            ("crm", "b"): frozenset({"postcode:2", "dob:x"}),
            ("crm", "c"): frozenset({"postcode:3", "dob:y"}),
        },
        ("crm", "crm"),
    )
    assert blocks.compared({("a", "b"), ("a", "c")}) == {("a", "b")}
    assert blocks.figures() == {"pairs_compared": 1, "blocks": 5, "largest_block": 2}


@pytest.mark.parametrize(
    ("passes", "reason"),
    [
        ("postcode", "is not a list"),
        ([{"name": "x", "field": "nickname", "key": "value"}], "reads 'nickname'"),
        ([{"name": "x", "field": "dob", "key": "metaphone"}], "has key 'metaphone'"),
        ([{"name": "x", "field": "dob"}], "needs exactly name, field, key"),
        ([{"name": "x", "field": "dob", "key": "value"}] * 2, "repeated or reserved"),
    ],
)
def test_a_broken_blocking_pass_is_refused_naming_the_file_and_the_reason(tmp_path, passes, reason):
    shutil.copytree(CONFIG_DIR, tmp_path, dirs_exist_ok=True)
    config = json.loads((tmp_path / "match.json").read_text())
    config["platform"]["blockingPasses"] = passes
    (tmp_path / "match.json").write_text(json.dumps(config))
    with pytest.raises(ZinggConfigError, match=r"match\.json: .*" + reason.replace("'", ".")):
        load_model("match", tmp_path)


def test_each_true_pair_of_the_samples_gets_a_namesake_as_a_false_pair(tmp_path):
    model = load_model("match")
    assert model.names == ("first_name", "last_name", "name_words")
    out = namesakes(model.samples, model.fields, model.names, tmp_path / "namesakes.csv")
    with open(model.samples, newline="", encoding="utf-8") as fh:
        true_pairs = {r["z_cluster"] for r in csv.DictReader(fh) if r["z_isMatch"] == "1"}
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    pairs: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        pairs.setdefault(row["z_cluster"], []).append(row)
    assert len(pairs) == len(true_pairs) and all(r["z_isMatch"] == "0" for r in rows)
    for person, namesake in pairs.values():
        assert all(person[name] == namesake[name] for name in model.names)
        assert (person["dob"], person["email"]) != (namesake["dob"], namesake["email"])
    assert namesakes(model.samples, model.fields, (), tmp_path / "none.csv") is None


def test_namesake_fields_that_are_not_match_fields_are_refused_naming_the_file(tmp_path):
    shutil.copytree(CONFIG_DIR, tmp_path, dirs_exist_ok=True)
    config = json.loads((tmp_path / "match.json").read_text())
    config["platform"]["namesakeFields"] = ["surname"]
    (tmp_path / "match.json").write_text(json.dumps(config))
    refused = r"match\.json: platform\.namesakeFields \['surname'\]"
    with pytest.raises(ZinggConfigError, match=refused):
        load_model("match", tmp_path)
