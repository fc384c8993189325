"""Tests of GoNoGo."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from task_helpers import assert_valid_batch, measured_noise_std, noise_batch_size, noise_outputs

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import GoNoGo


def test_structure():
    task = GoNoGo(N_batch=200, stim_noise=0.0)
    assert (task.N_in, task.N_out, task.N_steps) == (2, 1, 150)
    batch = task.generate_batch(0)
    go = batch.conditions["go"]
    onset = batch.conditions["onset_time"]
    assert onset.min() >= 150.0
    assert onset.max() < 750.0
    stimulus = batch.periods["stimulus"]
    np.testing.assert_array_equal(stimulus[:, 0], np.ceil(onset / 10.0 - 1e-6))
    np.testing.assert_array_equal(stimulus[:, 1], np.ceil((onset + 200.0) / 10.0 - 1e-6))
    np.testing.assert_array_equal(batch.periods["response"][:, 0], stimulus[:, 1])
    rows = np.arange(200)
    np.testing.assert_array_equal(batch.inputs[rows, stimulus[:, 0], 1 - go], np.ones(200))
    np.testing.assert_array_equal(batch.inputs[rows, stimulus[:, 0], go], np.zeros(200))
    assert np.all(batch.mask == 1.0)
    response = batch.period_mask("response")
    np.testing.assert_array_equal(batch.targets[:, :, 0], response * go[:, None])
    assert 0 < go.sum() < 200


def test_go_probability_and_fixed_onset():
    batch = GoNoGo(N_batch=100, go_probability=1.0, onset_time=300.0).generate_batch(1)
    assert np.all(batch.conditions["go"] == 1)
    assert batch.periods["stimulus"].tolist() == [[30, 50]] * 100


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0, 50.0])
def test_noise_std(dt):
    task = GoNoGo(
        dt=dt,
        tau=max(100.0, 2 * dt),
        stim_duration=max(200.0, dt),
        N_batch=noise_batch_size(dt),
    )
    assert measured_noise_std(task) == pytest.approx(0.1 * np.sqrt(10.0 / dt), rel=0.03)


def test_accuracy():
    task = GoNoGo(N_batch=2000)
    batch = task.generate_batch(2)
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(1.0 - batch.targets, batch) == 0.0
    assert task.accuracy(np.zeros_like(batch.targets), batch) == pytest.approx(
        np.mean(batch.conditions["go"] == 0)
    )
    assert task.accuracy(noise_outputs(batch), batch) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"go_probability": 1.2}, "go_probability must be at most 1 (got go_probability=1.2)"),
        (
            {"stim_duration": 5},
            "stim_duration must be at least one time step (got stim_duration=5 ms, dt=10 ms)",
        ),
        (
            {"onset_time": 1400},
            "T must leave at least one step for the response after the cue (got T=1500 ms, latest cue end=1600 ms)",
        ),
        ({"onset_time": -1}, "onset_time must be at least 0 ms (got onset_time=-1 ms)"),
    ],
)
def test_invalid_parameters(values, message):
    with pytest.raises(InvalidParameterError) as info:
        GoNoGo(**values)
    assert str(info.value) == message


@settings(max_examples=20, deadline=None)
@given(
    dt=st.sampled_from([1.0, 5.0, 10.0, 20.0]),
    steps=st.integers(60, 300),
    p=st.floats(0, 1),
    seed=st.integers(0, 2**31),
)
def test_valid_ranges(dt, steps, p, seed):
    task = GoNoGo(
        dt=dt, tau=3 * dt, T=steps * dt, stim_duration=10 * dt, go_probability=p, N_batch=8
    )
    assert_valid_batch(task, task.generate_batch(seed))
