"""The run launcher: Dagster's default, plus an answer to "is this run's worker still alive?".

Dagster's `DefaultRunLauncher` starts runs in the code location's gRPC server but cannot tell the
daemon's run monitoring whether a run's process still exists, so a run whose process was killed
(OOM, SIGKILL, a host restart) would show STARTED forever. This launcher answers from what is
known about the run:

- launched by it (UI, sensors, schedules): the code server that holds the run says whether it
  is still executing it (`GetCurrentRuns`); a server that cannot be asked means "running"
  (unknown), never a false failure;
- executed elsewhere (`sdp materialize`, `dagster asset materialize`): the run's own engine
  events name its process id; with `local_runs` (the embedded platform, where the daemon and
  the CLI share a host) a process that is gone is a failed run.

The daemon then marks the dead run failed, which the failure sensor turns into one alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._config import Field
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._serdes import ConfigurableClassData, deserialize_value

from sdp.runtime.processes import alive


class MonitoredRunLauncher(DefaultRunLauncher):
    def __init__(
        self, inst_data: ConfigurableClassData | None = None, local_runs: bool = False
    ) -> None:
        super().__init__(inst_data=inst_data)
        self._local_runs = local_runs

    @classmethod
    def config_type(cls) -> dict:
        return {
            "local_runs": Field(
                bool,
                is_required=False,
                default_value=False,
                description="runs executed outside the launcher share the daemon's host",
            )
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> MonitoredRunLauncher:
        return cls(inst_data=inst_data, **config_value)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        if GRPC_INFO_TAG in run.tags:
            return self._ask_code_server(run)
        if self._local_runs:
            return self._look_for_process(run)
        return CheckRunHealthResult(WorkerStatus.RUNNING, "executed outside the launcher")

    def _ask_code_server(self, run: DagsterRun) -> CheckRunHealthResult:
        from dagster._grpc.types import GetCurrentRunsResult

        client = self._get_grpc_client_for_termination(run.run_id)
        if client is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "finished meanwhile")
        try:
            current = deserialize_value(client.get_current_runs(), GetCurrentRunsResult)
        except Exception as exc:  # the server is restarting or unreachable: cannot tell
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"code server not asked: {exc}")
        if run.run_id in current.current_runs:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED, "the code server no longer executes this run: its process died"
        )

    def _look_for_process(self, run: DagsterRun) -> CheckRunHealthResult:
        pid = self._run_pid(run)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no process recorded yet")
        if alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"the run's process (pid {pid}) is gone: it was killed or crashed"
        )

    def _run_pid(self, run: DagsterRun) -> int | None:
        """The executor's process, as its first engine event with a pid names it."""
        for entry in self._instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
            data = entry.dagster_event.event_specific_data if entry.dagster_event else None
            pid = getattr(data, "metadata", {}).get("pid") if data else None
            if pid is not None:
                return int(pid.value)
        return None
