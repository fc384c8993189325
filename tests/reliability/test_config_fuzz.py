"""Hypothesis over task and network settings: valid ones train, invalid ones raise our error only."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import get_task

pytestmark = pytest.mark.slow

task_values = st.fixed_dictionaries(
    {
        "dt": st.sampled_from([10.0, 20.0]),
        "tau": st.sampled_from([100.0, 250.0]),
        "T": st.sampled_from([160.0, 240.0]),
        "N_batch": st.integers(min_value=1, max_value=6),
        "stim_noise": st.floats(min_value=0.0, max_value=10.0),
    }
)
network_values = st.fixed_dictionaries(
    {
        "N_rec": st.integers(min_value=1, max_value=5),
        "rec_noise": st.sampled_from([0.0, 0.05]),
        "transfer_function": st.sampled_from(["relu", "tanh", "softplus", "sigmoid", "linear"]),
        "dale_ratio": st.sampled_from([None, 0.0, 0.5, 1.0]),
        "model": st.sampled_from(["rate", "gru", "lstm"]),
        "autapses": st.booleans(),
    }
)
# One value that breaks a rule, put over a valid draw; None keeps the draw valid.
BREAKS = [
    ("task", "dt", 0.0), ("task", "tau", 5.0), ("task", "T", 95.0), ("task", "N_batch", 0),
    ("task", "stim_noise", math.nan), ("task", "stim_noise", 11.0),
    ("network", "N_rec", 0), ("network", "rec_noise", -0.1), ("network", "dale_ratio", 1.2),
    ("network", "transfer_function", "relux"), ("network", "autapses", "no"),
    ("network", "model", "rnn"),
]
breaks = st.one_of(st.none(), st.sampled_from(BREAKS))


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(task_values, network_values, breaks)
def test_fuzzed_settings_train_or_raise(task_kwargs, network_kwargs, broken):
    if network_kwargs["model"] != "rate":
        # Dale's law and recurrent noise are rate-RNN features: valid draws leave them off.
        network_kwargs.update(dale_ratio=None, rec_noise=0.0)
    if broken is not None:
        where, name, value = broken
        (task_kwargs if where == "task" else network_kwargs)[name] = value
    try:
        task = get_task("perceptual_discrimination", **task_kwargs)
        config = NetworkConfig.for_task(task, seed=1, **network_kwargs)
    except InvalidParameterError as error:
        assert broken is not None, f"a valid draw was rejected: {error}"
        assert error.field == broken[1]
        assert error.field in str(error)
        event(f"invalid {error.field}")
        return
    event("valid")
    assert broken is None, f"{broken} was accepted"
    trainer = Trainer(build_network(config), task,
                      TrainingConfig(max_updates=3, eval_every=1, seed=2), jit_compile=False)
    history = trainer.run()
    assert trainer.state == "finished"
    assert history.update == [1, 2, 3]
    assert np.all(np.isfinite(history.loss))


def test_one_unit_gru_trains():
    task = get_task("perceptual_discrimination", T=160.0, N_batch=1)
    config = NetworkConfig.for_task(task, seed=1, N_rec=1, model="gru")
    trainer = Trainer(build_network(config), task, TrainingConfig(max_updates=2, seed=2))
    trainer.run()
    assert trainer.updates == 2
