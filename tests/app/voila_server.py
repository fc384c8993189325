"""Start and stop a real ``psychrnn-widgets`` (Voilà) server on 127.0.0.1 for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

READY_PATH = "/voila/static/voila.js"


@dataclass
class VoilaServer:
    """A running server: its process, address, log file and seconds until it responded."""

    process: subprocess.Popen
    port: int
    log_path: Path
    ready_s: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kernel_pids(self) -> list[int]:
        """Return the PIDs of the kernels this server started."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        pids = []
        for child in children:
            try:
                if "ipykernel_launcher" in " ".join(child.cmdline()):
                    pids.append(child.pid)
            except psutil.NoSuchProcess:
                continue
        return sorted(pids)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def isolated_environment(home: Path) -> dict[str, str]:
    """Return os.environ with HOME and the Jupyter folders moved under ``home``."""
    environment = dict(os.environ)
    for name, folder in {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "jupyter-config",
        "JUPYTER_DATA_DIR": home / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": home / "jupyter-runtime",
        "IPYTHONDIR": home / "ipython",
    }.items():
        folder.mkdir(parents=True, exist_ok=True)
        environment[name] = str(folder)
    environment["TF_CPP_MIN_LOG_LEVEL"] = "2"
    # Chromium and Python in the kernel must not reach for a proxy.
    environment["no_proxy"] = "127.0.0.1,localhost"
    return environment


def wait_until_ready(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    """Poll ``url`` until it returns HTTP 200. Raise if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before it responded")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {url} within {timeout_s} s")


def start_server(
    notebook: Path,
    home: Path,
    *,
    extra_args: list[str] = (),
    timeout_s: float = 60.0,
) -> VoilaServer:
    """Run ``python -m psychrnn_widgets.app.cli`` on a free port and wait until it responds."""
    port = free_port()
    log_path = home / f"voila-{port}.log"
    command = [
        sys.executable,
        "-m",
        "psychrnn_widgets.app.cli",
        "--no-browser",
        "--port",
        str(port),
        "--notebook",
        str(Path(notebook).resolve()),
        *extra_args,
    ]
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=isolated_environment(home),
            cwd=home,
        )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}{READY_PATH}", process, timeout_s)
    except Exception:
        stop_server(process)
        raise RuntimeError(f"Voilà did not start; log:\n{log_path.read_text()}") from None
    return VoilaServer(process, port, log_path, time.monotonic() - started)


def stop_server(process: subprocess.Popen, timeout_s: float = 20.0) -> None:
    """Stop the server with SIGTERM (it shuts its kernels down), then SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    kernels = []
    try:
        kernels = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        pass
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    # Kernels that outlived their server would hold ~0.5 GB each.
    for kernel in kernels:
        try:
            kernel.wait(timeout=5)
        except psutil.TimeoutExpired:
            kernel.kill()
        except psutil.NoSuchProcess:
            pass
