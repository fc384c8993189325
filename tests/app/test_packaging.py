"""The wheel ships the command and the dashboard notebook."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_app(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("psychrnn_widgets-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(name for name in names if name.endswith("entry_points.txt"))
        entry_text = archive.read(entry_points).decode()
        shipped = archive.read("psychrnn_widgets/app/notebooks/dashboard.ipynb")

    assert "psychrnn_widgets/app/cli.py" in names
    assert "psychrnn_widgets/app/settings.py" in names
    assert "psychrnn-widgets = psychrnn_widgets.app.cli:main" in entry_text
    assert shipped == (ROOT / "psychrnn_widgets/app/notebooks/dashboard.ipynb").read_bytes()
