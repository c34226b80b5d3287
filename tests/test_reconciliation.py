"""Customer reconciliation with real Zingg on real Spark, on the default scenario's build."""

from __future__ import annotations

import contextlib
import csv
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from sdp.db import connect
from sdp.dbt_cli import run_dbt
from sdp.scoring.matching import blocking_recall, score_matching
from sdp.settings import load_settings
from sdp.zingg.blocking import Blocks
from sdp.zingg.configs import CONFIG_DIR, ZinggConfigError, effective_config, load_model
from sdp.zingg.pipeline import Reconciler, ZinggResult
from sdp.zingg.records import billing_record, crm_record
from sdp.zingg.reviews import ReviewError, record_review, review_samples
from sdp.zingg.runner import ZinggError, ZinggRunner, blocked_proxy

F1_GOAL = 0.98


def rebuild_golden(url: str) -> None:
    run = run_dbt(url, "build", "--select", "golden_customers")
    assert run.returncode == 0, run.stdout[-3000:]


def golden(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select customer_id, golden_id from reconciliation.golden_customers")
        return dict(rows.fetchall())


def test_match_and_link_reach_the_f1_goal_against_the_ground_truth(default_build):
    url, truth = default_build
    with psycopg.connect(url) as conn:
        figures = score_matching(conn, truth)
    assert figures["match"]["f1"] >= F1_GOAL, figures["match"]
    assert figures["link"]["f1"] >= F1_GOAL, figures["link"]


def test_golden_ids_survive_a_new_zingg_run(default_build, second_match):
    url, _ = default_build
    before = second_match.golden_before
    assert golden(url) == before
    assert len(set(before.values())) < len(before)  # duplicates did merge


def test_a_current_model_is_not_retrained(default_build):
    url, _ = default_build
    with connect(url) as conn:
        trained = Reconciler(conn, load_settings()).train("match")
    assert not trained.retrained
    assert trained.labelled_pairs > 0 and trained.reviewed_pairs == 0
    assert (trained.directory / "model").is_dir()


def test_subscription_exceptions_name_the_lines_golden_customer(default_build):
    url, _ = default_build
    ids = golden(url)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select reason, customer_id, golden_id, golden_account_ids, detail"
            " from controls.ctl_subscription_reconciliation where in_crm"
        ).fetchall()
    assert rows
    assert all(golden_id == ids[customer] for _, customer, golden_id, _, _ in rows)
    unbilled = [r for r in rows if r[0] == "active_on_network_not_billed" and r[3]]
    assert unbilled, "an unbilled line of a known customer points at that customer's accounts"
    for _, _, golden_id, accounts, detail in unbilled:
        assert f"customer {golden_id} holds {', '.join(accounts)}" in detail


def test_reviewer_decisions_override_zingg(default_build):
    url, truth = default_build
    pair = sorted(truth["duplicates"]["crm_crm"][0])
    strangers = ("C0000001", "C0000002")
    ids = golden(url)
    assert ids[pair[0]] == ids[pair[1]] and ids[strangers[0]] != ids[strangers[1]]
    with connect(url) as conn:
        record_review(conn, "match", pair[1], pair[0], "rejected", "analyst", "not the same")
        record_review(conn, "match", *strangers, "confirmed", "analyst", "same household id")
    try:
        rebuild_golden(url)
        ids = golden(url)
        assert ids[pair[0]] != ids[pair[1]]
        assert ids[strangers[0]] == ids[strangers[1]] == f"G-{strangers[0]}"
        with connect(url) as conn:
            samples = review_samples(conn, load_model("match"), Path(url.split("/")[-1]))
            assert samples is not None
            labelled = samples.read_text().splitlines()
            samples.unlink()
        assert len(labelled) == 5  # header + two rows per reviewed pair
        model = load_model("match")
        assert model.fingerprint() != model.fingerprint(Path(__file__))  # reviews retrain
    finally:
        with connect(url) as conn:
            conn.execute("delete from reconciliation.match_reviews")
        rebuild_golden(url)


def test_a_review_must_name_a_known_model_and_decision(default_build):
    url, _ = default_build
    with connect(url) as conn, pytest.raises(ReviewError, match="decision 'maybe'"):
        record_review(conn, "match", "C1", "C2", "maybe", "analyst")


def test_zingg_usage_reporting_is_pointed_at_a_closed_local_port(tmp_path):
    command = " ".join(ZinggRunner(load_settings()).command("match", tmp_path / "c.json"))
    assert f"spark.driver.extraJavaOptions={blocked_proxy()}" in command
    assert "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9" in command


def test_adaptive_execution_is_off_on_a_local_master_and_left_to_spark_on_a_cluster(tmp_path):
    local = ZinggRunner(load_settings({**os.environ, "SPARK_MASTER": "local[2]"}))
    cluster = ZinggRunner(load_settings({**os.environ, "SPARK_MASTER": "spark://spark:7077"}))
    assert "spark.sql.adaptive.enabled=false" in local.command("match", tmp_path / "c.json")
    assert not any(
        a.startswith("spark.sql.adaptive") for a in cluster.command("match", tmp_path / "c.json")
    )


class ProxyTrap:
    """A listener standing where the closed proxy port would be: it records each request line
    (the usage report's CONNECT) and answers nothing."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with client:
                client.settimeout(5)
                with contextlib.suppress(OSError):
                    self.requests.append(
                        client.recv(4096).decode(errors="replace").split("\r\n")[0]
                    )


def _remote_addresses(pid: int) -> set[str]:
    """Remote ends of the TCP sockets process `pid` holds, read from /proc."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    found = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and fields[2] != "0" * width + ":0000":
                    address = bytes.fromhex(fields[2].split(":")[0])
                    if width == 8:
                        found.add(str(ipaddress.IPv4Address(address[::-1])))
                    else:  # /proc prints IPv6 as four little-endian 32-bit words
                        words = [address[i : i + 4][::-1] for i in range(0, 16, 4)]
                        found.add(str(ipaddress.IPv6Address(b"".join(words))))
    return found


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback  # Java's sockets are IPv6


def _zingg_pids() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if b"zingg.spark.client.SparkClient" in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
    return pids


@dataclass(frozen=True)
class WatchedMatch:
    golden_before: dict[str, str]
    jvms: set[int]
    remote_addresses: set[str]
    proxy_requests: list[str]
    result: ZinggResult
    clusters: dict[str, list[str]]  # Zingg's own clusters (before the acceptance floor)


@pytest.fixture(scope="module")
def second_match(default_build) -> WatchedMatch:
    """A second Zingg match over the default build (new cluster ids, the same people), its
    JVM's sockets watched and its HTTP(S) proxy a trap; the golden customers rebuilt after it.
    One Zingg run serves the tests of both (about 70 s each)."""
    url, _ = default_build
    before = golden(url)
    trap = ProxyTrap()
    seen: set[str] = set()
    jvms: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in _zingg_pids():
                jvms.add(pid)
                seen.update(_remote_addresses(pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with connect(url) as conn:
            runner = ZinggRunner(load_settings(), proxy_port=trap.port)
            result = Reconciler(conn, load_settings(), runner).match()
            clusters: dict[str, list[str]] = defaultdict(list)
            for customer, cluster in conn.execute(
                "select customer_id, zingg_cluster from reconciliation.customer_matches"
            ):
                clusters[cluster].append(customer)
    finally:
        done.set()
        watcher.join()
        trap.server.close()
    rebuild_golden(url)
    return WatchedMatch(before, jvms, seen, list(trap.requests), result, dict(clusters))


def test_a_zingg_run_contacts_no_address_but_loopback(second_match):
    assert second_match.jvms, "the watcher found the Zingg JVM"
    assert all(_is_loopback(a) for a in second_match.remote_addresses), second_match
    requests = second_match.proxy_requests
    assert requests and all(r.startswith("CONNECT ") for r in requests), requests


def test_a_failing_zingg_phase_reports_the_spark_error_not_just_an_exit_code(tmp_path):
    settings = load_settings({**os.environ, "SDP_HOME": str(tmp_path)})
    missing = tmp_path / "nowhere.csv"
    config = effective_config(load_model("match"), settings, {"crm": missing}, [missing])
    with pytest.raises(ZinggError) as failure:
        ZinggRunner(settings, driver_memory="1g").run("match", config)
    message = str(failure.value)
    assert "Zingg match on match.json failed" in message
    assert "nowhere.csv" in message or "Exception" in message
    assert json.loads(config.read_text())["modelId"] == "crm_dedupe"


def test_billing_holder_names_are_compared_whole_never_split_on_a_space():
    compound = billing_record("A1", "María García López", None, None, None, None, None)
    company = billing_record("A2", "Northwind Logistics Ltd", None, None, None, None, None)
    assert compound["name"] == "maria garcia lopez"
    assert company["name"] == "northwind logistics ltd"
    assert "first_name" not in compound and "last_name" not in compound
    crm = crm_record("C1", "María", "García López", None, None, None, None, None, None)
    assert crm["name"] == compound["name"]  # the link compares like with like


def test_a_customer_entered_surname_first_still_agrees_on_the_words_of_the_name():
    usual = crm_record("C1", "Benjamin", "McPhail", None, None, None, None, None, None)
    swapped = crm_record("C2", "McPhail", "Benjamin", None, None, None, None, None, None)
    assert usual["first_name"] != swapped["first_name"]
    assert usual["name_words"] == swapped["name_words"] == "benjamin mcphail"
    assert "name_words" in load_model("match").fields


def test_the_link_model_and_its_samples_compare_the_full_name():
    link = load_model("link")
    assert "name" in link.fields
    assert not {"first_name", "last_name"} & set(link.fields)
    with open(link.samples, newline="", encoding="utf-8") as fh:
        assert set(link.fields) <= set(next(csv.reader(fh)))


def test_the_febrl_benchmark_refuses_the_held_back_datasets():
    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "febrl.py"
    run = subprocess.run(
        [sys.executable, str(bench), "--datasets", "febrl2", "febrl4"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "febrl4: held back" in run.stderr and "Traceback" not in run.stderr


def test_blocks_count_pairs_within_a_source_for_a_dedupe_and_across_sources_for_a_link():
    one, two = frozenset("1"), frozenset("2")
    dedupe = Blocks(
        {("crm", "a"): one, ("crm", "b"): one, ("crm", "c"): one, ("crm", "d"): two},
        ("crm", "crm"),
    )
    assert dedupe.figures() == {"pairs_compared": 3, "blocks": 2, "largest_block": 3}
    assert dedupe.compared({("a", "b"), ("a", "d")}) == {("a", "b")}
    link = Blocks(
        {("crm", "a"): one, ("crm", "b"): one, ("billing", "x"): one, ("billing", "y"): two},
        ("crm", "billing"),
    )
    assert link.pairs_compared == 2  # a-x and b-x; never a-b, both CRM
    assert blocking_recall(link, {("a", "x"), ("a", "y")}) == {
        "true_pairs": 2,
        "true_pairs_compared": 1,
        "blocking_recall": 0.5,
    }


def test_zingg_compares_only_records_of_one_block_and_reports_the_blocks_it_used(second_match):
    """The hashes come from Zingg's own tree: each pair of a two-record cluster shares one."""
    result = second_match.result
    pairs = {
        tuple(sorted(members)) for members in second_match.clusters.values() if len(members) == 2
    }
    assert pairs and result.blocks.compared(pairs) == pairs
    assert result.blocks.figures()["pairs_compared"] >= len(pairs)
    assert {p.phase for p in result.phases} >= {"match", "crm_dedupe-blocks"}


def test_a_trained_model_says_which_fields_and_hash_functions_its_blocking_splits_on(
    default_build,
):
    url, _ = default_build
    with connect(url) as conn:
        trained = Reconciler(conn, load_settings()).train("match")
    assert trained.blocking.splits and trained.blocking.depth >= 1
    assert set(trained.blocking.fields) <= set(load_model("match").fields) - {"record_id"}
    assert (trained.directory / "blocking_tree.json").exists()


def test_doubtful_scores_are_flagged_around_the_floor_and_queued_until_a_reviewer_decides(
    default_build,
):
    url, _ = default_build
    match, link = load_model("match"), load_model("link")
    with psycopg.connect(url) as conn:
        records = conn.execute(
            "select customer_id, zingg_cluster, z_max_score, doubtful"
            " from reconciliation.customer_matches"
        ).fetchall()
        links = conn.execute(
            "select customer_id, account_id, z_score, accepted, doubtful"
            " from reconciliation.customer_links"
        ).fetchall()
        queue = conn.execute(
            "select model, left_id, right_id from reconciliation.review_queue"
        ).fetchall()
    assert all(doubtful == match.doubtful(score) for _, _, score, doubtful in records)
    assert all(
        (accepted, doubtful) == (link.accepts(score), link.doubtful(score))
        for _, _, score, accepted, doubtful in links
    )
    cluster_of = {customer: cluster for customer, cluster, _, _ in records}
    expected = {
        ("match", *sorted((customer, other)))
        for customer, cluster, _, doubtful in records
        if doubtful
        for other, other_cluster, _, _ in records
        if other_cluster == cluster and other != customer
    } | {("link", c, a) for c, a, _, _, doubtful in links if doubtful}
    assert set(queue) == expected and len(queue) == len(expected)
    assert all(m != "match" or cluster_of[a] == cluster_of[b] for m, a, b in queue)
    if not queue:  # the build had nothing doubtful: decide a confident pair instead
        pair = next(iter(sorted({("match", *sorted(p)) for p in _cluster_pairs(records)})))
    else:
        pair = sorted(queue)[0]
    with connect(url) as conn:
        record_review(conn, pair[0], pair[1], pair[2], "confirmed", "analyst", "same person")
    try:
        run = run_dbt(url, "build", "--select", "review_queue")
        assert run.returncode == 0, run.stdout[-3000:]
        with psycopg.connect(url) as conn:
            left = conn.execute(
                "select model, left_id, right_id from reconciliation.review_queue"
            ).fetchall()
        assert set(left) == expected - {pair}
    finally:
        with connect(url) as conn:
            conn.execute("delete from reconciliation.match_reviews")
        run_dbt(url, "build", "--select", "review_queue")


def _cluster_pairs(records) -> set[tuple[str, str]]:
    clusters: dict[str, list[str]] = defaultdict(list)
    for customer, cluster, _, _ in records:
        clusters[cluster].append(customer)
    return {(a, b) for m in clusters.values() for a in m for b in m if a < b}


def test_a_review_margin_outside_zero_to_one_is_refused_naming_the_file(tmp_path):
    shutil.copytree(CONFIG_DIR, tmp_path, dirs_exist_ok=True)
    config = json.loads((tmp_path / "match.json").read_text())
    config["platform"]["reviewMargin"] = 1.5
    (tmp_path / "match.json").write_text(json.dumps(config))
    with pytest.raises(ZinggConfigError, match=r"match\.json: platform\.reviewMargin 1\.5"):
        load_model("match", tmp_path)
