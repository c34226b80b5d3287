"""A platform of a test's own, driven as an operator drives it: its own warehouse, Dagster
storage, instance directory and landing folder, the real `dagster-daemon`, the real CLIs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg

from sdp.db import connect, scratch_database
from sdp.landing import land_file
from sdp.runtime.services import write_dagster_instance
from sdp.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CDR_HEADER = b"cdr_id,msisdn,event_time,service_type,duration_s,call_result,network_element_id\n"


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def cdr_rows(day: str, rows: int, prefix: str = "K") -> bytes:
    """A mediation file of `rows` valid voice CDRs for `day`."""
    lines = [
        f"{prefix}{i},+447700{i % 1_000_000:06d},{day}T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:"
        f"{i % 60:02d}Z,voice,{i % 600},answered,MSC-01\n"
        for i in range(rows)
    ]
    return CDR_HEADER + "".join(lines).encode()


def copying(url: str) -> bool:
    """Whether a COPY into the database at `url` is under way, with rows already in."""
    with psycopg.connect(url) as conn:
        return bool(
            conn.execute(
                "select count(*) from pg_stat_progress_copy"
                " where datname = current_database() and tuples_processed > 0"
            ).fetchone()[0]
        )


@dataclass
class OwnPlatform:
    env: dict[str, str]
    warehouse: str
    storage: str
    landing: Path
    logs: Path
    daemon: subprocess.Popen | None = field(default=None)

    def run(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / command[0]), *command[1:]],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def spawn(self, *command: str) -> subprocess.Popen:
        """In a session of its own, so that the whole process tree can be killed at once."""
        return subprocess.Popen(
            [str(BIN / command[0]), *command[1:]],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def land(self, entity: tuple[str, str], day: str, batch_id: str, data: bytes, rows: int):
        return land_file(self.landing, *entity, date.fromisoformat(day), batch_id, data, rows)

    def start_daemon(self) -> None:
        log = open(self.logs / "daemon.log", "a")  # noqa: SIM115 (the daemon outlives this call)
        self.daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started = time.time()
        wait_for(
            lambda: self._beating(started, {"SENSOR", "MONITORING", "QUEUED_RUN_COORDINATOR"}),
            180,
            "the daemon's sensor, monitoring and run-queue heartbeats",
        )

    def stop_daemon(self) -> None:
        if self.daemon and self.daemon.poll() is None:
            os.killpg(self.daemon.pid, signal.SIGTERM)
            try:
                self.daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.daemon.pid, signal.SIGKILL)
                self.daemon.wait()
        self.daemon = None

    def _beating(self, since: float, kinds: set[str]) -> bool:
        with psycopg.connect(self.storage) as conn:
            if conn.execute("select to_regclass('daemon_heartbeats')").fetchone()[0] is None:
                return False
            seen = {
                kind
                for (kind,) in conn.execute(
                    "select daemon_type from daemon_heartbeats"
                    " where extract(epoch from timestamp) >= %s",
                    (since,),
                )
            }
        return kinds <= seen

    def runs(self) -> dict[str, str]:
        """run id -> status, from Dagster's storage."""
        with psycopg.connect(self.storage) as conn:
            return dict(conn.execute("select run_id, status from runs").fetchall())

    def sensor_runs(self, sensor: str) -> list[str]:
        with psycopg.connect(self.storage) as conn:
            rows = conn.execute(
                "select run_id from run_tags where key = 'dagster/sensor_name' and value = %s",
                (sensor,),
            )
            return [r for (r,) in rows]

    def outbox(self, topic: str, run_id: str, event_type: str | None = None) -> int:
        """How many events about `run_id` (of `event_type`, if given) the outbox holds."""
        with connect(self.warehouse) as conn:
            return conn.execute(
                "select count(*) from ops.event_outbox where topic = %s"
                " and event->'payload'->>'run_id' = %s"
                " and (%s::text is null or event->>'event_type' = %s)",
                (topic, run_id, event_type, event_type),
            ).fetchone()[0]


@contextmanager
def own_platform(server_url: str, tmp: Path, kafka: str = "127.0.0.1:1") -> Iterator[OwnPlatform]:
    """Kafka defaults to a closed port: the daemon's Kafka sensors then start no run, and the
    events wait in the warehouse outbox, where the tests count them."""
    with ExitStack() as stack:
        warehouse = stack.enter_context(scratch_database(server_url))
        storage = stack.enter_context(scratch_database(server_url))
        landing, logs = tmp / "landing", tmp / "logs"
        landing.mkdir(parents=True)
        logs.mkdir()
        env = {
            **os.environ,
            "SDP_WAREHOUSE_URL": warehouse,
            "SDP_DAGSTER_STORAGE_URL": storage,
            "DAGSTER_HOME": str(tmp / "dagster"),
            "SDP_LANDING": str(landing),
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
        }
        write_dagster_instance(load_settings(env))
        platform = OwnPlatform(env, warehouse, storage, landing, logs)
        try:
            yield platform
        finally:
            platform.stop_daemon()
