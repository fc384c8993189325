"""Fixtures of the compat tests: the PsychRNN 1.0.0 reference runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SIDE_SCRIPT = Path(__file__).resolve().parent / "psychrnn_side.py"


@pytest.fixture(scope="session")
def run_psychrnn():
    """Return ``run(request: dict) -> dict`` that runs ``psychrnn_side.py`` under PsychRNN 1.0.0."""
    import psychrnn_env  # tests/conftest.py puts benchmarks/ on sys.path

    if not (psychrnn_env.ENV_DIR / ".psychrnn-ready").exists():
        pytest.skip("the PsychRNN environment is not built (run python benchmarks/psychrnn_env.py)")
    script = SIDE_SCRIPT.read_text()

    def run(request: dict) -> dict:
        return psychrnn_env.run_in_psychrnn(script, json.dumps(request), timeout=600)

    return run
