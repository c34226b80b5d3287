"""Run Zingg phases with pyspark's spark-submit, on the jar inside the `zingg` wheel.

Zingg is AGPL-3.0: it runs as a separate, unmodified program. It is not driven through its
Python API (that pins a py4j older than pyspark 3.5 needs) but submitted like any Spark job,
`local[*]` by default and on a cluster when SPARK_MASTER says so. Zingg reports usage over HTTPS
at the end of every phase; the driver gets an HTTPS proxy on a closed loopback port so that
nothing about the operator's data leaves the machine.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sdp.runtime.java import java_home
from sdp.settings import Settings

PHASES = ("trainMatch", "train", "match", "link")
# a closed port on loopback: Zingg's usage report fails there instead of leaving the machine
CLOSED_PORT = 9


def blocked_proxy(port: int = CLOSED_PORT) -> str:
    """JVM options sending every HTTP(S) request through a proxy on loopback `port`."""
    return (
        f"-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort={port}"
        f" -Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort={port}"
    )


_ERROR_LINE = re.compile(r"(Exception|Error)[:\s]|ZinggClientException|Caused by:", re.IGNORECASE)


class ZinggError(RuntimeError):
    """A Zingg phase failed; the message carries Zingg's or Spark's own error."""


def zingg_jar() -> Path:
    spec = importlib.util.find_spec("zingg")
    if spec is None or not spec.submodule_search_locations:
        raise ZinggError("the zingg wheel is not installed (make install)")
    jars = sorted(
        p
        for p in (Path(next(iter(spec.submodule_search_locations))) / "jars").glob("zingg-*.jar")
        if not p.name.endswith("-tests.jar")
    )
    if not jars:
        raise ZinggError("no Zingg jar inside the zingg wheel")
    return jars[-1]


def spark_submit() -> Path:
    path = Path(sys.executable).with_name("spark-submit")
    if not path.exists():
        raise ZinggError("pyspark's spark-submit is not installed beside this Python")
    return path


@dataclass(frozen=True)
class PhaseRun:
    phase: str
    seconds: float
    log: Path
    peak_rss_mib: float  # the phase's JVM (driver and, on local[*], the executors)


def _failure_summary(log_text: str) -> str:
    """The lines that say why: Zingg's exception and Spark's cause, not the whole log."""
    lines = [line.strip() for line in log_text.splitlines() if _ERROR_LINE.search(line)]
    picked: list[str] = []
    for line in lines:
        if line not in picked and not line.startswith("at "):
            picked.append(line)
    return "\n".join(picked[:8]) or log_text[-2000:]


class ZinggRunner:
    def __init__(
        self, settings: Settings, driver_memory: str = "4g", proxy_port: int = CLOSED_PORT
    ) -> None:
        self.settings = settings
        self.work = settings.home / "zingg"
        self.driver_memory = driver_memory
        self.proxy = blocked_proxy(proxy_port)

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "JAVA_HOME": str(java_home(self.settings)),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_PYTHON": sys.executable,
        }
        env.pop("SPARK_HOME", None)  # pyspark's own distribution, not a stray one
        return env

    def tuning(self) -> list[str]:
        """Spark settings that depend on where the phase runs.

        On a local master, adaptive query execution re-plans each of the hundreds of small
        stages Zingg submits and costs more than it saves: measured here on 1,200 customers,
        the match phase took 66 s with it and 42 s without (the same clusters and scores),
        link 37 s -> 32 s, train 106 s -> 101 s. A cluster keeps Spark's default, where
        coalescing shuffle partitions and splitting skewed blocks pay for the re-planning."""
        if self.settings.spark_master.startswith("local"):
            return ["--conf", "spark.sql.adaptive.enabled=false"]
        return []

    def _spark(self) -> list[str]:
        """spark-submit and the settings every job on Zingg's jar runs with."""
        jar = zingg_jar()
        local_dir = self.work / "spark-tmp"
        local_dir.mkdir(parents=True, exist_ok=True)
        return [
            str(spark_submit()),
            "--master",
            self.settings.spark_master,
            "--driver-memory",
            self.driver_memory,
            "--conf",
            f"spark.driver.extraJavaOptions={self.proxy}",
            "--conf",
            f"spark.executor.extraJavaOptions={self.proxy}",
            "--conf",
            f"spark.local.dir={local_dir}",
            "--conf",
            "spark.driver.host=127.0.0.1",
            "--conf",
            "spark.driver.bindAddress=127.0.0.1",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.serializer=org.apache.spark.serializer.KryoSerializer",
            "--conf",
            "spark.sql.shuffle.partitions=8",
            "--conf",
            "spark.default.parallelism=8",
            *self.tuning(),
            "--conf",
            f"spark.sql.warehouse.dir={self.work / 'spark-warehouse'}",
            "--driver-class-path",
            str(jar),
        ]

    def command(self, phase: str, config: Path) -> list[str]:
        return [
            *self._spark(),
            "--class",
            "zingg.spark.client.SparkClient",
            str(zingg_jar()),
            "--phase",
            phase,
            "--conf",
            str(config),
            # mandatory options of Zingg's client; neither is sent anywhere (see blocked_proxy)
            "--email",
            "zingg@localhost",
            "--license",
            str(self._license()),
        ]

    def _license(self) -> Path:
        """Zingg's community edition wants a licence file argument; an empty file serves."""
        path = self.work / "zinggLicense.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return path

    def run(self, phase: str, config: Path) -> PhaseRun:
        if phase not in PHASES:
            raise ZinggError(f"unknown Zingg phase {phase!r}: one of {', '.join(PHASES)}")
        return self._submit(
            self.command(phase, config),
            phase,
            f"{phase} on {config.name}",
            f"{config.stem}-{phase}",
        )

    def run_script(self, script: Path, args: list[str], label: str) -> PhaseRun:
        """A PySpark script beside Zingg's classes (`sdp.zingg.blocking_job`), as a phase is."""
        command = [*self._spark(), "--jars", str(zingg_jar()), str(script), *args]
        return self._submit(command, label, f"{label} ({script.name})", label)

    def _submit(self, command: list[str], phase: str, what: str, name: str) -> PhaseRun:
        logs = self.work / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"{name}.log"
        started = time.perf_counter()
        with open(log, "w") as out:
            process = subprocess.Popen(
                command,
                env=self.environment(),
                cwd=self.work,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            # wait4 gives this phase's own peak memory, not the maximum of every child so far
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = code = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        if code < 0:  # killed (out of memory, an operator, a host going down): say by what
            tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-12:])
            raise ZinggError(
                f"Zingg {what} was killed by {signal.Signals(-code).name}; "
                f"its last lines:\n{tail}\nfull log: {log}"
            )
        if code != 0:
            summary = _failure_summary(log.read_text(errors="replace"))
            raise ZinggError(f"Zingg {what} failed (exit {code}):\n{summary}\nfull log: {log}")
        return PhaseRun(phase, seconds, log, usage.ru_maxrss / 1024)
