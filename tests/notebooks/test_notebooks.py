"""Every notebook under notebooks/ runs top to bottom in a fresh kernel without an error."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    path.relative_to(ROOT)
    for path in (ROOT / "notebooks").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in path.parts
)
PACKAGED_DASHBOARD = ROOT / "psychrnn_widgets" / "app" / "notebooks" / "dashboard.ipynb"

# A whole notebook trains small networks; one cell gets this long before it counts as hung.
CELL_TIMEOUT_S = 300


def test_dashboard_copies_match():
    assert (ROOT / "notebooks" / "dashboard.ipynb").read_bytes() == PACKAGED_DASHBOARD.read_bytes()


def test_notebooks_have_no_outputs():
    # Outputs saved in a notebook would show stale numbers and bloat the repository.
    for relative in NOTEBOOKS:
        notebook = nbformat.read(ROOT / relative, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{relative} has saved outputs"
                assert cell.execution_count is None, f"{relative} has execution counts"


def test_expected_notebooks_exist():
    names = {str(path) for path in NOTEBOOKS}
    for expected in [
        "notebooks/dashboard.ipynb",
        "notebooks/01_quickstart.ipynb",
        "notebooks/02_biological_constraints.ipynb",
        "notebooks/03_curriculum.ipynb",
        "notebooks/04_custom_task.ipynb",
        "notebooks/05_analysis.ipynb",
    ]:
        assert expected in names
    labs = [name for name in names if name.startswith("notebooks/labs/")]
    assert len([name for name in labs if "answers" in name]) >= 1
    assert len([name for name in labs if "answers" not in name]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("relative", NOTEBOOKS, ids=[str(path) for path in NOTEBOOKS])
def test_notebook_executes(relative, tmp_path, monkeypatch):
    # The kernel inherits this process's environment.
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    path = ROOT / relative
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    client.execute()
    elapsed = time.monotonic() - started
    print(f"{relative} ran in {elapsed:.1f} s")

    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {index} failed: {output.get('ename')}"
            if output.output_type == "stream" and output.name == "stderr":
                assert "Traceback" not in output.text, f"cell {index} printed a traceback"
    assert elapsed < 120, f"{relative} took {elapsed:.0f} s; keep its training small"
