"""binder/ alone builds an environment that runs the notebooks and serves the Voilà app."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from psychrnn_widgets.app.settings import CELL_ERROR_MESSAGE

from voila_server import free_port, isolated_environment, stop_server, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
# The files a Binder build copies: the repository without virtual environments or caches.
COPIED = ["pyproject.toml", "README.md", "psychrnn_widgets", "notebooks", "binder"]
EXECUTED = ["notebooks/dashboard.ipynb", "notebooks/01_quickstart.ipynb"]


def test_runtime_pins_python_311():
    assert (BINDER / "runtime.txt").read_text() == "python-3.11\n"


def test_server_config_matches_app_settings():
    config = json.loads((BINDER / "jupyter_server_config.json").read_text())
    assert config["VoilaConfiguration"] == {"strip_sources": True, "show_tracebacks": False}
    assert config["VoilaExecutor"]["cell_error_instruction"] == CELL_ERROR_MESSAGE


def test_requirements_are_pinned():
    lines = [
        line
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert "tensorflow-cpu==2.21.0" in lines
    assert "voila==0.5.13" in lines
    for line in lines:
        assert "==" in line, line


def copy_repository(target: Path) -> Path:
    target.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


@pytest.mark.slow
@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="runtime.txt pins Python 3.11")
def test_binder_environment_serves_dashboard(tmp_path):
    repository = copy_repository(tmp_path / "repository")
    home = tmp_path / "home"
    environment = isolated_environment(home)
    venv = tmp_path / "env"

    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{environment['PATH']}"
    environment.pop("PYTHONPATH", None)
    environment["VIRTUAL_ENV"] = str(venv)
    subprocess.run(
        ["python", "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
        cwd=repository, env=environment, check=True, timeout=1200,
    )
    subprocess.run(["bash", "binder/postBuild"], cwd=repository, env=environment, check=True,
                   timeout=600)
    print(f"binder environment built in {time.monotonic() - started:.0f} s")
    assert (home / ".jupyter" / "jupyter_server_config.json").is_file()

    for notebook in EXECUTED:
        subprocess.run(
            ["binder/start", "jupyter", "nbconvert", "--to", "notebook", "--execute",
             "--ExecutePreprocessor.timeout=300", "--output-dir", str(tmp_path / "executed"),
             notebook],
            cwd=repository, env=environment, check=True, timeout=600, capture_output=True,
        )

    port = free_port()
    token = secrets.token_hex(16)
    # Binder runs as an ordinary user; CI containers often run as root.
    allow_root = ["--allow-root"] if os.geteuid() == 0 else []
    server = subprocess.Popen(
        ["binder/start", "jupyter", "server", *allow_root, "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={repository}"],
        cwd=repository, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/voila/static/voila.js", server, 120)
        url = f"http://127.0.0.1:{port}/voila/render/notebooks/dashboard.ipynb?token={token}"
        with urllib.request.urlopen(url, timeout=300) as response:
            status = response.status
            page = response.read().decode()
    finally:
        stop_server(server)

    assert status == 200
    assert "application/vnd.jupyter.widget-view+json" in page
    assert CELL_ERROR_MESSAGE not in page
    assert "from psychrnn_widgets" not in page
