"""Create or reuse a virtual environment that holds PsychRNN 1.0.0, for cross-checks.

PsychRNN 1.0.0's wheel declares an invalid requirement string that pip 24.1 and newer reject, so
the environment installs TensorFlow and NumPy first, then downgrades pip and installs PsychRNN
without dependencies. Importing PsychRNN switches the whole process to TensorFlow 1 graph mode,
so it always runs in its own process: call :func:`run_in_psychrnn` with a script.

Usage from the command line: ``python benchmarks/psychrnn_env.py`` prints the interpreter path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ENV_DIR = Path(os.environ.get("PSYCHRNN_ENV", Path(__file__).resolve().parent / ".envs" / "psychrnn"))


def psychrnn_python(env_dir: Path = ENV_DIR) -> Path:
    """Return the interpreter of an environment with PsychRNN 1.0.0, creating it if missing."""
    python = env_dir / "bin" / "python"
    marker = env_dir / ".psychrnn-ready"
    if marker.exists():
        return python
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "tensorflow-cpu", "numpy"], check=True)
    subprocess.run([*pip, "pip<24.1"], check=True)
    subprocess.run([*pip, "--no-deps", "psychrnn==1.0.0"], check=True)
    marker.write_text("psychrnn 1.0.0\n")
    return python


def run_in_psychrnn(script: str, *args: str, timeout: float = 1800) -> dict:
    """Run ``script`` with the PsychRNN interpreter and parse the last line it prints as JSON."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0")
    result = subprocess.run(
        [str(psychrnn_python()), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"PsychRNN script failed with exit code {result.returncode}:\n{result.stderr[-4000:]}")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError(f"PsychRNN script printed nothing; stderr:\n{result.stderr[-4000:]}")
    return json.loads(lines[-1])


if __name__ == "__main__":
    print(psychrnn_python())
    sys.exit(0)
