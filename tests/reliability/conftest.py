"""Fixtures of the reliability tests: small Dashboards. Chromium is set up in tests/conftest.py."""

from __future__ import annotations

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
