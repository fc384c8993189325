"""The psychrnn-widgets command: options, usage errors, and a real server start."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from psychrnn_widgets.app import cli
from psychrnn_widgets.app.settings import CELL_ERROR_MESSAGE, dashboard_notebook

from voila_server import free_port, isolated_environment, stop_server, wait_until_ready

PROBE = Path(__file__).parent / "notebooks" / "probe.ipynb"


def run_command(*arguments: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "psychrnn_widgets.app.cli", *arguments],
        capture_output=True,
        text=True,
        env=isolated_environment(home),
        timeout=60,
    )


def test_prepare_default_arguments():
    port = free_port()
    _, arguments = cli.prepare(["--port", str(port), "--no-browser"])
    assert arguments == [
        str(dashboard_notebook().resolve()),
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        "--Voila.open_browser=False",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        f"--VoilaExecutor.cell_error_instruction={CELL_ERROR_MESSAGE}",
        "--MappingKernelManager.cull_idle_timeout=600",
        "--MappingKernelManager.cull_interval=60",
        "--VoilaExecutor.iopub_timeout=120",
        "--preheat_kernel=True",
        "--pool_size=1",
    ]


def test_prepare_opens_browser_by_default():
    _, arguments = cli.prepare(["--port", str(free_port())])
    assert "--Voila.open_browser=True" in arguments


def test_prepare_without_preheat():
    _, arguments = cli.prepare(["--port", str(free_port()), "--no-preheat"])
    assert "--preheat_kernel=True" not in arguments
    assert "--pool_size=1" not in arguments


def test_prepare_passes_trait_options_on():
    _, arguments = cli.prepare(
        [
            "--port",
            str(free_port()),
            "--notebook",
            str(PROBE),
            "--MappingKernelManager.cull_idle_timeout=10",
            "--VoilaConfiguration.theme=dark",
        ]
    )
    assert arguments[0] == str(PROBE.resolve())
    assert arguments.count("--MappingKernelManager.cull_idle_timeout=10") == 1
    assert "--MappingKernelManager.cull_idle_timeout=600" not in arguments
    assert arguments[-1] == "--VoilaConfiguration.theme=dark"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--notebook", "missing.ipynb"], "notebook not found: missing.ipynb"),
        (["--notebook", __file__], f"--notebook must be a .ipynb file (got {__file__})"),
        (["--port", "0"], "--port must be between 1 and 65535 (got 0)"),
        (["--port", "70000"], "--port must be between 1 and 65535 (got 70000)"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["--host", "192.0.2.1"], "cannot listen on 192.0.2.1: it is not an address of this machine"),
    ],
)
def test_usage_error_is_one_line(arguments, message, tmp_path):
    result = run_command(*arguments, "--no-browser", home=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"psychrnn-widgets: error: {message}\n"
    assert result.stdout == ""


def test_busy_port_is_one_line(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_command("--port", str(port), "--no-browser", home=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"psychrnn-widgets: error: port {port} on 127.0.0.1 is already in use; "
        "choose another with --port\n"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),
     ("192.168.1.4", False), ("example.org", False)],
)
def test_is_loopback(host, loopback):
    assert cli._is_loopback(host) is loopback


def test_page_url_brackets_ipv6():
    assert cli._page_url("::1", 8866) == "http://[::1]:8866/"
    assert cli._page_url("127.0.0.1", 9000) == "http://127.0.0.1:9000/"


def test_packaged_dashboard_exists():
    notebook = dashboard_notebook()
    assert notebook.name == "dashboard.ipynb"
    assert notebook.is_file()


@pytest.mark.slow
def test_console_script_serves_notebook(tmp_path):
    script = Path(sys.executable).with_name("psychrnn-widgets")
    port = free_port()
    process = subprocess.Popen(
        [str(script), "--port", str(port), "--no-browser", "--no-preheat", "--notebook", str(PROBE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=isolated_environment(tmp_path),
    )
    try:
        first_line = process.stdout.readline()
        assert first_line == f"Serving the dashboard at http://127.0.0.1:{port}/\n"
        wait_until_ready(f"http://127.0.0.1:{port}/voila/static/voila.js", process, 60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as response:
            page = response.read().decode()
        assert response.status == 200
        assert "application/vnd.jupyter.widget-view+json" in page
        assert CELL_ERROR_MESSAGE in page
        assert "probe-source-marker" not in page
        assert "probe-secret-error-marker" not in page
    finally:
        stop_server(process)
    assert process.returncode == 0
