"""Whether a process still runs: for the services the platform starts and the runs it watches."""

from __future__ import annotations

import os
from pathlib import Path


def alive(pid: int) -> bool:
    """A live process that is not a zombie. A child of this process that has exited is reaped
    here; one of another parent that was killed but not yet reaped counts as gone."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: the signal said it exists
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
