"""Helpers shared by the benchmark scripts: JSON result lines, spreads, machine and versions."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent


def last_json_line(text: str) -> dict:
    """Return the last line of ``text`` that parses as a JSON object.

    Raises
    ------
    ValueError
        When no line parses as a JSON object.
    """
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise ValueError("no JSON object line in the output")


def spread(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    """Min, median and max of ``values``, rounded, with their count."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
        "n": len(values),
    }


def run_python(code: str, *args: str, timeout: float = 1800, env: dict | None = None) -> dict:
    """Run ``code`` with this interpreter in a child process and parse its last JSON line."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=full_env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"child process failed with exit code {result.returncode}:\n{result.stderr[-4000:]}")
    return last_json_line(result.stdout)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """Return the machine, its load and the versions that matter for the figures."""
    packages = ("psychrnn-widgets", "tensorflow-cpu", "tensorflow", "keras", "numpy", "torch", "voila", "playwright")
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "versions": {name: version for name in packages if (version := _version(name)) is not None},
    }


def utc_now() -> str:
    """Return the current time as an ISO 8601 UTC string, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def git_commit() -> str | None:
    """Return the short commit hash of the repository, or None outside git."""
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip() or None
