"""Fixtures of the reliability tests: small Dashboards, and Chromium set up as in tests/app."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture
def make_dashboard():
    """Return a factory of small Dashboards (perceptual discrimination, 200 ms trials)."""
    from psychrnn_widgets.engine import NetworkConfig
    from psychrnn_widgets.tasks import PerceptualDiscrimination
    from psychrnn_widgets.widgets.dashboard import Dashboard

    dashboards = []

    def make(N_rec=6, max_updates=2000, seed=3, **task_values):
        task = PerceptualDiscrimination(**{"T": 200.0, "N_batch": 8, **task_values})
        config = NetworkConfig.for_task(task, N_rec=N_rec, seed=seed)
        board = Dashboard(task, config, max_updates=max_updates, refresh_interval=0.1,
                          trace_interval=0.3, heldout_trials=16)
        dashboards.append(board)
        return board

    yield make
    for board in dashboards:
        board.close()


# Browser tests reuse the app tests' server and page helpers (plain modules in tests/app).
APP_TESTS = Path(__file__).resolve().parent.parent / "app"
if str(APP_TESTS) not in sys.path:
    sys.path.insert(0, str(APP_TESTS))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, tmp_path_factory):
    """Launch Debian's Chromium off the network and out of ``$HOME`` (as tests/app does)."""
    from browser_pages import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing; install it with `apt-get install -y chromium`")
    home = tmp_path_factory.mktemp("chromium-home")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "env": {**os.environ, "HOME": str(home)},
    }
