"""Bring the runtime up and down, and say where each service is and whether it is healthy."""

from __future__ import annotations

import os
from collections.abc import Callable

import psycopg
import yaml
from psycopg.conninfo import conninfo_to_dict

from sdp.runtime.java import java_home, java_status
from sdp.runtime.kafka import EmbeddedKafka
from sdp.runtime.ports import port_open
from sdp.runtime.postgres import DAGSTER_DB, EmbeddedPostgres, check_server
from sdp.settings import Settings


def warehouse_url(settings: Settings) -> str:
    if settings.warehouse_url:
        return settings.warehouse_url
    return EmbeddedPostgres(settings).url()


def kafka_bootstrap_servers(settings: Settings) -> str:
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    return EmbeddedKafka(settings).bootstrap_servers


def dagster_storage_url(settings: Settings) -> str:
    if settings.dagster_storage_url:
        return settings.dagster_storage_url
    if settings.warehouse_url:
        return settings.warehouse_url
    return EmbeddedPostgres(settings).url(DAGSTER_DB)


# how often the daemon checks that started runs still have a live process
RUN_MONITORING_POLL_S = 10


def write_dagster_instance(settings: Settings) -> None:
    """dagster.yaml: runs, events and schedules in the platform's PostgreSQL.

    The storage URL is read from the environment at run time, so the file holds no secret;
    `sdp env` (and every `sdp` command that starts Dagster) exports it.
    """
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    instance = {
        "storage": {"postgres": {"postgres_url": {"env": "SDP_DAGSTER_STORAGE_URL"}}},
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            # two cores: more concurrent runs only thrash; a queued run (a landed batch) should
            # start within a second, not the default five
            "config": {"max_concurrent_runs": 2, "dequeue_interval_seconds": 1},
        },
        # a run whose process died (killed, out of memory) is marked failed by the daemon;
        # runs of the CLI share this host, so their process ids can be checked
        "run_launcher": {
            "module": "orchestration.launcher",
            "class": "MonitoredRunLauncher",
            "config": {"local_runs": True},
        },
        "run_monitoring": {
            "enabled": True,
            "start_timeout_seconds": 180,
            "poll_interval_seconds": RUN_MONITORING_POLL_S,
            # the default launcher cannot resume a run in a new process: fail it instead
            "max_resume_run_attempts": 0,
        },
        "telemetry": {"enabled": False},
    }
    path = settings.dagster_home / "dagster.yaml"
    text = yaml.safe_dump(instance, sort_keys=False)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def warehouse_parts(url: str) -> dict[str, str]:
    """The warehouse URL as the separate variables dbt's profile reads."""
    parts = conninfo_to_dict(url)
    return {
        "SDP_WAREHOUSE_HOST": str(parts.get("host") or "127.0.0.1"),
        "SDP_WAREHOUSE_PORT": str(parts.get("port") or 5432),
        "SDP_WAREHOUSE_USER": str(parts.get("user") or ""),
        "SDP_WAREHOUSE_PASSWORD": str(parts.get("password") or ""),
        "SDP_WAREHOUSE_DB": str(parts.get("dbname") or ""),
    }


def service_env(settings: Settings) -> dict[str, str]:
    """Variables every child process (dagster, dbt, spark) needs to find the services."""
    env = {
        "SDP_HOME": str(settings.home),
        "SDP_LANDING": str(settings.landing),
        "DAGSTER_HOME": str(settings.dagster_home),
        "SDP_DAGSTER_STORAGE_URL": dagster_storage_url(settings),
        "JAVA_HOME": str(java_home(settings)),
        "SPARK_MASTER": settings.spark_master,
    }
    if not settings.embedded_warehouse:
        env["SDP_WAREHOUSE_URL"] = warehouse_url(settings)
    env.update(warehouse_parts(warehouse_url(settings)))
    env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap_servers(settings)
    return env


def up(settings: Settings, log: Callable[[str], None] = lambda _: None) -> dict:
    """Start what is embedded, then bring the warehouse schema to the code's revision."""
    from sdp.migrations import upgrade

    settings.home.mkdir(parents=True, exist_ok=True)
    settings.landing.mkdir(parents=True, exist_ok=True)
    if settings.embedded_warehouse:
        EmbeddedPostgres(settings).start()
    upgrade(warehouse_url(settings), log)
    if settings.embedded_kafka:
        EmbeddedKafka(settings).start()
        # the broker does not create topics on first use: the stages publish from the start
        from sdp.events import ensure_topics

        ensure_topics(kafka_bootstrap_servers(settings))
    write_dagster_instance(settings)
    return status(settings)


def down(settings: Settings) -> dict:
    if settings.embedded_kafka:
        EmbeddedKafka(settings).stop()
    if settings.embedded_warehouse:
        EmbeddedPostgres(settings).stop()
    return status(settings)


def _kafka_status(settings: Settings) -> dict:
    servers = kafka_bootstrap_servers(settings)
    if settings.embedded_kafka:
        broker = EmbeddedKafka(settings)
        healthy = broker.running()
        return {
            "mode": "embedded",
            "address": servers,
            "data_dir": str(broker.data),
            "log": str(broker.logs / "server.log"),
            "healthy": healthy,
            **({} if healthy else {"error": "not running (sdp up)"}),
        }
    from sdp.events import EventBusError, broker_reachable

    try:
        broker_reachable(servers)
    except EventBusError as exc:
        return {"mode": "external", "address": servers, "healthy": False, "error": str(exc)}
    return {"mode": "external", "address": servers, "healthy": True}


def secret_values(settings: Settings) -> set[str]:
    """Every password the platform's connections carry: never printed, never logged."""
    urls = [settings.warehouse_url, settings.dagster_storage_url]
    if settings.embedded_warehouse:
        pg = EmbeddedPostgres(settings)
        if pg.initialised():
            urls.append(pg.url())
    found = set()
    for url in filter(None, urls):
        password = conninfo_to_dict(url).get("password")
        if password:
            found.add(str(password))
    return found


def redact(url: str) -> str:
    """A URL as it may be shown: the password replaced by ***."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _schema_status(settings: Settings) -> dict:
    """The warehouse's schema revision against the code's newest migration."""
    from sdp.db import connect
    from sdp.migrations import describe, state

    try:
        with connect(settings=settings) as conn:
            found = state(conn)
    except psycopg.Error as exc:
        return {"healthy": False, "error": str(exc).strip()}
    info = {
        "revision": describe(found.current) if found.current else "none (never migrated)",
        "head": found.head,
        "healthy": found.up_to_date,
    }
    if not found.up_to_date:
        info["error"] = "behind the code: sdp migrate"
        info["mark"] = "BEHIND"
    return info


# the daemon writes a heartbeat every few seconds; one older than this is a daemon that stopped
DAEMON_HEARTBEAT_STALE_S = 60


def _webserver_answers(port: int) -> bool:
    """A Dagster webserver, not just anything, listens on the port."""
    import urllib.request

    if not port_open(port):
        return False
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as reply:
            return "dagster_webserver_version" in reply.read(4096).decode("utf-8", "replace")
    except OSError:
        return False


def _daemon_state(storage_url: str) -> str:
    """From the heartbeats the daemon keeps in Dagster's storage: running, or since when not."""
    try:
        with psycopg.connect(storage_url, connect_timeout=5) as conn:
            if conn.execute("select to_regclass('daemon_heartbeats')").fetchone()[0] is None:
                return "not running (never started)"
            age = conn.execute(
                "select extract(epoch from (now() at time zone 'utc') - max(timestamp))"
                " from daemon_heartbeats"
            ).fetchone()[0]
    except psycopg.Error as exc:
        from sdp.db import first_line

        return f"unknown ({first_line(exc)})"
    if age is None:
        return "not running (never started)"
    if age > DAEMON_HEARTBEAT_STALE_S:
        return f"not running (last heartbeat {int(age)} s ago)"
    return f"running (heartbeat {max(int(age), 0)} s ago)"


def status(settings: Settings) -> dict:
    """One key per service: where it is, where its data is, whether it is healthy."""
    pg = EmbeddedPostgres(settings)
    if settings.embedded_warehouse:
        if pg.initialised() and pg.running():
            health = check_server(pg.url())
        else:
            health = {"healthy": False, "error": "not running (sdp up)"}
        warehouse = {
            "mode": "embedded",
            "url": redact(pg.url()) if pg.initialised() else None,
            "address": f"127.0.0.1:{settings.pg_port}",
            "data_dir": str(pg.data),
            "log": str(pg.log_file),
            **health,
        }
    else:
        warehouse = {
            "mode": "external",
            "url": redact(settings.warehouse_url or ""),
            "data_dir": None,
            **check_server(settings.warehouse_url or ""),
        }
    schema = _schema_status(settings) if warehouse.get("healthy") else {"healthy": None}
    try:
        storage_url = dagster_storage_url(settings)
        storage = check_server(storage_url)
    except RuntimeError as exc:
        storage_url, storage = "", {"healthy": False, "error": str(exc)}
    dagster = {
        "url": f"http://127.0.0.1:{settings.dagster_port}",
        "ui": "running" if _webserver_answers(settings.dagster_port) else "not running",
        "daemon": _daemon_state(storage_url) if storage.get("healthy") else "unknown",
        "dagster_home": str(settings.dagster_home),
        "storage_url": redact(storage_url),
        **storage,
    }
    return {
        "warehouse": warehouse,
        "schema": schema,
        "dagster": dagster,
        "kafka": _kafka_status(settings),
        "java": java_status(settings),
        "landing": {
            "path": str(settings.landing),
            "healthy": settings.landing.is_dir() and os.access(settings.landing, os.W_OK),
        },
        "operator": _operator_status(),
    }


def _operator_status() -> dict:
    """The operator profile in force, or why it cannot be used."""
    from sdp.operator import ProfileError, load_profile

    try:
        p = load_profile()
    except ProfileError as exc:
        return {"healthy": False, "error": str(exc)}
    return {
        "healthy": True,
        "profile": f"{p.country} {p.currency} {p.timezone}",
        "source": p.sources.get("country"),
    }
