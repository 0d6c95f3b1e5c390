"""What the figures were measured on: CPU, cores, load, Python and the libraries compared."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

LIBRARIES = ("toolwire", "aiohttp", "dependency-injector", "dishka", "wireup", "python-socketio",
             "redis", "pydantic")


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's processor string."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def library_versions() -> dict[str, str]:
    """Return the installed version of each library the benchmarks use."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def redis_server_version() -> str:
    """Return `redis-server --version`'s version, or why there is none."""
    binary = shutil.which("redis-server")
    if binary is None:
        return "not installed"
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    for word in done.stdout.split():
        if word.startswith("v="):
            return word[2:]
    return done.stdout.strip() or "unknown"


def describe() -> dict[str, Any]:
    """Return the machine, the date and the load when a benchmark starts."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load_avg_1m": round(load[0], 2),
        "libraries": library_versions(),
        "redis_server": redis_server_version(),
    }
