"""`sdp status` tells what is running, not what is configured; `sdp ui` stops cleanly on
SIGTERM and Ctrl-C, even started with SIGINT ignored; no password reaches the terminal, even
with the exports of `sdp env`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sdp.db import scratch_database
from sdp.runtime.services import secret_values, write_dagster_instance
from sdp.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
SDP = str(Path(sys.executable).with_name("sdp"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(env: dict[str, str]) -> dict:
    run = subprocess.run([SDP, "status", "--json"], env=env, capture_output=True, text=True)
    return json.loads(run.stdout)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"{what} within {timeout:.0f} s")


@pytest.fixture
def own_instance(server_url, tmp_path) -> dict[str, str]:
    """A Dagster instance, warehouse and landing of the test's own; Kafka unreachable, so the
    sensors the daemon ticks start no run."""
    with scratch_database(server_url) as warehouse, scratch_database(server_url) as storage:
        env = {
            **os.environ,
            "SDP_WAREHOUSE_URL": warehouse,
            "SDP_DAGSTER_STORAGE_URL": storage,
            "DAGSTER_HOME": str(tmp_path / "dagster"),
            "SDP_LANDING": str(tmp_path / "landing"),
            "SDP_DAGSTER_PORT": str(free_port()),
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        }
        (tmp_path / "landing").mkdir()
        write_dagster_instance(load_settings(env))
        yield env


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_status_sees_the_ui_and_daemon_and_a_signal_stops_both(own_instance, stop_signal):
    env = own_instance
    before = status(env)["dagster"]
    assert before["ui"] == "not running" and before["daemon"].startswith("not running")
    # started as a background job of a script is (CI's): with SIGINT ignored
    ui = subprocess.Popen(
        [SDP, "ui"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        wait_for(
            lambda: (
                (s := status(env)["dagster"])["ui"] == "running"
                and s["daemon"].startswith("running")
            ),
            180,
            "the UI and the daemon reported running",
        )
        ui.send_signal(stop_signal)
        output, _ = ui.communicate(timeout=90)
    finally:
        if ui.poll() is None:
            ui.kill()
    assert ui.returncode == 0, output
    assert "Traceback" not in output, output
    assert "Dagster UI and daemon stopped" in output
    assert "killed" not in output, "dagster dev ignored the stop and was killed"
    after = status(env)["dagster"]
    assert after["ui"] == "not running"
    port = int(env["SDP_DAGSTER_PORT"])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the webserver outlived sdp ui"


def test_no_password_is_printed_even_after_the_exports(server_url):
    settings = load_settings()
    secrets = secret_values(settings)
    assert secrets, "the embedded warehouse has a password"
    exported = subprocess.run(
        ["bash", "-c", f'eval "$({SDP} env)" && env'], capture_output=True, text=True, check=True
    )
    env = dict(line.split("=", 1) for line in exported.stdout.splitlines() if "=" in line)
    assert any(s in env["SDP_WAREHOUSE_PASSWORD"] for s in secrets), "the exports work"
    printed = subprocess.run([SDP, "env"], capture_output=True, text=True).stdout
    for args in (["config"], ["status"], ["status", "--json"]):
        printed += subprocess.run([SDP, *args], env=env, capture_output=True, text=True).stdout
    for secret in secrets:
        assert secret not in printed
    logs = settings.logs_dir
    for log in logs.glob("*.log") if logs.exists() else []:
        text = log.read_text(errors="replace")
        assert not any(secret in text for secret in secrets), f"a password is in {log}"
