"""The shipped Zingg training samples: made from their recipe, covering the errors of real files."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from sdp.zingg.configs import CONFIG_DIR
from sdp.zingg.samples import (
    NEGATIVE_KINDS,
    NOT_IN_LINK,
    RecipeError,
    build_samples,
    evidence_kept,
    load_recipe,
    slip,
)

SDP = str(Path(sys.executable).with_name("sdp"))
# pairs each error type shows at least, per model: enough for Zingg to learn it from
MIN_PAIRS_PER_ERROR = 15


@pytest.fixture(scope="module")
def samples():
    recipe = load_recipe()
    return {model: build_samples(model, recipe) for model in ("match", "link")}


def test_shipped_samples_are_what_the_recipe_makes(tmp_path):
    run = subprocess.run(
        [SDP, "zingg-samples", "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    for model in ("match", "link"):
        shipped = (CONFIG_DIR / "training" / f"{model}.csv").read_bytes()
        assert (tmp_path / f"{model}.csv").read_bytes() == shipped, (
            f"zingg_configs/training/{model}.csv is not the recipe's output: run sdp zingg-samples"
        )
    assert "name_typo_first_letter" in run.stdout  # the coverage per error type is printed


def test_every_error_type_and_hard_negative_is_covered(samples):
    recipe = load_recipe()
    for model, made in samples.items():
        expected = [e for e in recipe.errors if model == "match" or e not in NOT_IN_LINK]
        for error in expected:
            assert made.coverage[error] >= MIN_PAIRS_PER_ERROR, (model, error, made.coverage)
        for kind in NEGATIVE_KINDS:
            assert made.coverage[f"negative_{kind}"] == recipe.negatives[kind]
        assert made.coverage["no_email_or_phone"] >= recipe.positives // 10
        if model == "link":
            assert not any(made.coverage[e] for e in NOT_IN_LINK)


def _pairs(rows):
    return [(rows[i], rows[i + 1]) for i in range(0, len(rows), 2)]


def test_true_pairs_differ_where_real_duplicates_do(samples):
    for model, made in samples.items():
        true = [(a, b) for a, b in _pairs(made.rows) if a["z_isMatch"] == "1"]
        name = ("first_name", "last_name") if model == "match" else ("name",)
        first_letters = sum(1 for a, b in true if any(a[n][:1] != b[n][:1] for n in name))
        assert first_letters / len(true) >= 0.1, model  # not only late slips in the name
        for field in ("email", "phone", "address", "postcode"):
            differ = sum(1 for a, b in true if a[field] != b[field])
            assert differ / len(true) >= 0.05, (model, field)
        # a person typed twice still shows who they are: enough of the identifying fields agree
        for a, b in true:
            kept, held = evidence_kept(a, b)
            assert kept * 2 > held, (a, b)


def test_false_pairs_carry_errors_as_often_as_true_pairs(samples):
    """A field filled on the first record and empty on the second is no sign of a duplicate."""
    for model, made in samples.items():
        compared = [f for f in made.rows[0] if f not in ("z_cluster", "z_isMatch", "record_id")]
        emptied = {}
        for label in ("1", "0"):
            pairs = [(a, b) for a, b in _pairs(made.rows) if a["z_isMatch"] == label]
            emptied[label] = sum(any(a[f] and not b[f] for f in compared) for a, b in pairs) / len(
                pairs
            )
        assert emptied["0"] > 0.1 and abs(emptied["1"] - emptied["0"]) < 0.1, (model, emptied)


def test_hard_negatives_share_what_a_blocking_key_would_use(samples):
    false = [(a, b) for a, b in _pairs(samples["match"].rows) if a["z_isMatch"] == "0"]
    same_name = [p for p in false if p[0]["z_cluster"].startswith("same_name")]
    twins = [p for p in false if p[0]["z_cluster"].startswith("twins")]
    neighbours = [p for p in false if p[0]["z_cluster"].startswith("neighbours")]
    assert sum(a["last_name"] == b["last_name"] for a, b in same_name) / len(same_name) > 0.6
    assert sum(a["dob"] == b["dob"] for a, b in twins) / len(twins) > 0.6
    assert sum(a["postcode"] == b["postcode"] for a, b in neighbours) / len(neighbours) > 0.6
    assert all(a["first_name"] != b["first_name"] or a["dob"] != b["dob"] for a, b in twins)


def test_a_slip_happens_at_any_position_the_first_letter_included():
    rng = random.Random(1)
    firsts = {slip(rng, "martinez", 0)[0] for _ in range(50)}
    assert firsts - {"m"}
    anywhere = [slip(rng, "martinez") for _ in range(200)]
    assert all(s != "martinez" for s in anywhere)
    assert any(s[0] != "m" for s in anywhere) and any(s[-1] != "z" for s in anywhere)


def test_a_recipe_with_an_unknown_error_type_is_refused_by_name(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    text = (CONFIG_DIR / "training" / "recipe.yaml").read_text()
    recipe.write_text(text.replace("  name_typo: ", "  name_tpyo: ", 1))
    with pytest.raises(RecipeError, match="name_tpyo"):
        load_recipe(recipe)
    run = subprocess.run(
        [SDP, "zingg-samples", "--recipe", str(recipe), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "name_tpyo" in run.stderr and "Traceback" not in run.stderr
