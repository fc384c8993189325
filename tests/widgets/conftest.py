import os
import time

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def wait_until(predicate, timeout=30.0, interval=0.05):
    """Poll ``predicate`` until it is true; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.fixture
def make_dashboard():
    from psychrnn_widgets.engine import NetworkConfig
    from psychrnn_widgets.tasks import PerceptualDiscrimination
    from psychrnn_widgets.widgets.dashboard import Dashboard

    made = []

    def make(N_rec=8, max_updates=2000, **task_values):
        values = {"T": 400.0, "N_batch": 16, **task_values}
        task = PerceptualDiscrimination(**values)
        config = NetworkConfig.for_task(task, N_rec=N_rec, seed=3)
        dashboard = Dashboard(task, config, max_updates=max_updates, refresh_interval=0.1,
                              trace_interval=0.3, heldout_trials=32)
        made.append(dashboard)
        return dashboard

    yield make
    for dashboard in made:
        dashboard.close()
