"""Step overhead: the whole graph and a day's raw group through the dagster CLI, each against
the same work materialized in this process, in the same run.

The CLI path is the one `make run` takes: `dagster asset materialize` on the code location,
the Postgres-backed instance and the multiprocess executor (a process per step). The baseline
materializes the same assets over the same landing in this process: no step processes, no
instance round trips, the floor a step-per-process run is compared with. Zingg trains in the
baseline's run when its models are stale (training is excluded from its figure); the CLI run
then finds them current.

Printed for the CLI runs: wall time, the sum of step compute times (steps overlap: two run at a
time on two cores), the time no step was running, and the start-up of the step processes
(launch to start, summed). Goals: the whole graph of the default scenario ≤ 180 s excluding
Zingg training, the idle time ≤ 25 % of the wall time, a day's raw group ≤ 30 s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, materialize

from orchestration.assets.dbt import dbt_resource
from orchestration.assets.reconciliation import MODELS, model_key
from orchestration.graph import RAW
from orchestration.inprocess import build_landed_days
from orchestration.resources import EventBusResource, LandingResource, WarehouseResource
from sdp.db import scratch_database
from sdp.generator import generate
from sdp.runtime.services import service_env, warehouse_url, write_dagster_instance
from sdp.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
TRAINING_ASSETS = {model_key(name).to_user_string() for name in MODELS}


@dataclass(frozen=True)
class Profile:
    wall: float
    steps: int
    step_sum: float
    idle: float
    start_up: float


def profile(instance: DagsterInstance, run_id: str) -> Profile:
    """The run's steps from its event log: when each was launched, started and finished."""
    launched: dict[str, float] = {}
    started: dict[str, float] = {}
    spans: list[tuple[float, float]] = []
    first = last = None
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        first = entry.timestamp if first is None else first
        last = entry.timestamp
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_WORKER_STARTING:
            launched[event.step_key] = entry.timestamp
        elif event.event_type == DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            spans.append((started[event.step_key], entry.timestamp))
    assert first is not None and last is not None, f"run {run_id} logged nothing"
    busy, reach = 0.0, first
    for begin, end in sorted(spans):  # the union of the step intervals
        if end > reach:
            busy += end - max(begin, reach)
            reach = end
    return Profile(
        wall=last - first,
        steps=len(spans),
        step_sum=sum(end - begin for begin, end in spans),
        idle=(last - first) - busy,
        start_up=sum(started[s] - launched[s] for s in started if s in launched),
    )


def cli_run(server: str, landing: Path, tmp: Path, *args: str) -> tuple[float, Profile]:
    """`dagster asset materialize <args>` on a fresh warehouse and Dagster storage of its own."""
    settings = load_settings()
    with scratch_database(server, "bench") as url, scratch_database(server, "bench") as storage:
        env = {
            **os.environ,
            **service_env(settings),
            "SDP_WAREHOUSE_URL": url,
            "SDP_DAGSTER_STORAGE_URL": storage,
            "DAGSTER_HOME": str(tmp / "dagster"),
            "SDP_LANDING": str(landing),
        }
        write_dagster_instance(load_settings(env))
        command = [str(Path(sys.executable).with_name("dagster")), "asset", "materialize"]
        t0 = time.perf_counter()
        done = subprocess.run(
            [*command, "-m", "orchestration.definitions", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        if done.returncode:
            raise SystemExit(f"dagster asset materialize {' '.join(args)} failed:\n{done.stderr}")
        os.environ["SDP_DAGSTER_STORAGE_URL"] = storage
        with DagsterInstance.from_config(str(tmp / "dagster")) as instance:
            run_id = instance.get_run_records(limit=1)[0].dagster_run.run_id
            return wall, profile(instance, run_id)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The in-process runs' event log and dbt's output stay off the terminal: only figures."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield


def in_process_graph(server: str, landing: Path, days: list[str]) -> tuple[float, float]:
    """(seconds, of which Zingg training) of the whole graph built in this process."""
    with scratch_database(server, "bench") as url:
        t0 = time.perf_counter()
        with quiet():
            result = build_landed_days(url, landing, days)
        wall = time.perf_counter() - t0
        if not result.success:
            raise SystemExit("the in-process build failed")
        # the two models train side by side in one step: the longer is the step's training
        training = max(
            (
                float(event.materialization.metadata["training_seconds"].value)
                for event in result.get_asset_materialization_events()
                if event.asset_key.to_user_string() in TRAINING_ASSETS
                and event.materialization.metadata["retrained"].value
            ),
            default=0.0,
        )
        return wall, training


def in_process_raw(server: str, landing: Path, day: str) -> float:
    with scratch_database(server, "bench") as url:
        t0 = time.perf_counter()
        with quiet():
            result = materialize(
                RAW,
                partition_key=day,
                resources={
                    "warehouse": WarehouseResource(url=url),
                    "landing": LandingResource(path=str(landing)),
                    "events": EventBusResource(),
                    "dbt": dbt_resource(),
                },
                raise_on_error=False,
            )
        if not result.success:
            raise SystemExit(f"the in-process raw load of {day} failed")
        return time.perf_counter() - t0


def report(name: str, wall: float, run: Profile, baseline: float, goal: float) -> None:
    print(f"{name} through the dagster CLI: {wall:.0f} s (goal <= {goal:.0f} s)")
    print(
        f"  {run.steps} steps, step compute summed {run.step_sum:.0f} s, no step running "
        f"{run.idle:.0f} s ({run.idle / run.wall:.0%} of the run; goal <= 25%), step start-up "
        f"summed {run.start_up:.0f} s"
    )
    print(f"  in process: {baseline:.0f} s; CLI / in process: {wall / baseline:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, help="the default scenario's when omitted")
    parser.add_argument("--days", type=int, help="the default scenario's when omitted")
    args = parser.parse_args()
    server = warehouse_url(load_settings())
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        generate(
            ROOT / "scenarios" / "default.yaml", landing, customers=args.customers, days=args.days
        )
        days = sorted(p.name[3:] for p in landing.glob("cdr/records/dt=*"))
        whole, training = in_process_graph(server, landing, days)
        wall, run = cli_run(
            server,
            landing,
            Path(tmp) / "graph",
            "--select",
            "*",
            "--partition-range",
            f"{days[0]}...{days[-1]}",
        )
        if training:
            print(f"Zingg trained in the baseline's run: {training:.0f} s, not counted")
        report(f"whole graph, {len(days)} days", wall, run, whole - training, 180)
        raw_wall, raw_run = cli_run(
            server, landing, Path(tmp) / "raw", "--select", "group:raw", "--partition", days[-1]
        )
        report(
            f"raw group, {days[-1]}",
            raw_wall,
            raw_run,
            in_process_raw(server, landing, days[-1]),
            30,
        )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory of any process of the CLI runs (Zingg's JVM too): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
