"""Tests of ReadySetGo."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from task_helpers import assert_valid_batch, measured_noise_std, noise_batch_size, noise_outputs

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import ReadySetGo


def test_structure():
    task = ReadySetGo(N_batch=100, stim_noise=0.0)
    batch = task.generate_batch(0)
    interval = batch.conditions["interval"]
    assert set(np.unique(interval)) == {480.0, 560.0, 640.0, 720.0, 800.0}
    ready = batch.periods["sample"][:, 0]
    set_step = batch.periods["production"][:, 0]
    go = batch.periods["response"][:, 0]
    assert np.all(ready == 20)
    np.testing.assert_array_equal(set_step - ready, interval / 10.0)
    np.testing.assert_array_equal(go - set_step, interval / 10.0)
    np.testing.assert_array_equal(batch.periods["response"][:, 1] - go, np.full(100, 30))
    rows = np.arange(100)
    for offset in (0, 1):
        np.testing.assert_array_equal(batch.inputs[rows, ready + offset, 0], np.ones(100))
        np.testing.assert_array_equal(batch.inputs[rows, set_step + offset, 1], np.ones(100))
    assert batch.inputs.sum() == 100 * 4
    np.testing.assert_array_equal(batch.targets[:, :, 0] == 1.0, batch.period_mask("response"))
    end = batch.periods["response"][:, 1]
    np.testing.assert_array_equal(
        batch.mask[:, :, 0] == 1.0, np.arange(250)[None, :] < end[:, None]
    )
    np.testing.assert_array_equal(batch.conditions["set_time"], set_step * 10.0)


def test_gain_scales_production():
    task = ReadySetGo(N_batch=20, gain=1.5, T=3000.0, intervals=[600.0])
    batch = task.generate_batch(1)
    production = np.diff(batch.periods["production"], axis=1)[:, 0]
    assert np.all(production == 90)
    assert np.all(batch.conditions["target_interval"] == 900.0)


def test_produced_intervals():
    task = ReadySetGo(N_batch=3)
    batch = task.generate_batch(2)
    outputs = np.zeros_like(batch.targets)
    set_step = batch.periods["production"][:, 0]
    outputs[0, set_step[0] + 50 :, 0] = 0.7
    outputs[1, : set_step[1], 0] = 1.0
    produced = task.produced_intervals(outputs, batch)
    assert produced[0] == 500.0
    assert np.isnan(produced[1])
    assert np.isnan(produced[2])


def test_accuracy_tolerance():
    task = ReadySetGo(N_batch=500, intervals=[600.0], tolerance=0.1)
    batch = task.generate_batch(3)
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(noise_outputs(batch), batch) == 0.0
    set_step = batch.periods["production"][:, :1]
    steps = np.arange(batch.N_steps)[None, :]
    for shift, expected in [(5, 1.0), (6, 1.0), (7, 0.0), (-6, 1.0), (-7, 0.0)]:
        outputs = (steps >= set_step + 60 + shift).astype(float)[:, :, None]
        assert task.accuracy(outputs, batch) == expected, shift


def test_psychometric():
    task = ReadySetGo(N_batch=200)
    batch = task.generate_batch(4)
    set_step = batch.periods["production"][:, :1]
    # Always respond 640 ms after set: correct only for 560, 640 and 720 ms within 15 %.
    outputs = (np.arange(batch.N_steps)[None, :] >= set_step + 64).astype(float)[:, :, None]
    curve = task.psychometric(outputs, batch)
    assert curve.variable == "interval"
    np.testing.assert_array_equal(curve.levels, [480, 560, 640, 720, 800])
    np.testing.assert_array_equal(curve.choice_fraction, [0, 1, 1, 1, 0])


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0, 50.0])
def test_noise_std(dt):
    task = ReadySetGo(
        dt=dt,
        tau=max(100.0, 2 * dt),
        pulse_duration=max(20.0, dt),
        N_batch=noise_batch_size(dt),
    )
    assert measured_noise_std(task) == pytest.approx(0.05 * np.sqrt(10.0 / dt), rel=0.03)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"T": 2000},
            "T must be at least ready_onset + (1 + gain) * longest interval + response_duration + dt (got T=2000 ms, needed=2110 ms)",
        ),
        (
            {"pulse_duration": 5},
            "pulse_duration must be between dt and the shortest interval (got pulse_duration=5 ms, dt=10 ms, shortest interval=480 ms)",
        ),
        (
            {"tolerance": 0.01},
            "tolerance * gain * shortest interval must be at least dt / 2, or an exact reproduction could score as wrong (got 4.8 ms, dt=10 ms)",
        ),
        ({"intervals": [0, 500]}, "intervals must be larger than 0 ms (got intervals=[0, 500] ms)"),
        ({"gain": 0}, "gain must be at least 0.1 (got gain=0)"),
    ],
)
def test_invalid_parameters(values, message):
    with pytest.raises(InvalidParameterError) as info:
        ReadySetGo(**values)
    assert str(info.value) == message


@settings(max_examples=20, deadline=None)
@given(
    dt=st.sampled_from([1.0, 5.0, 10.0, 20.0]), gain=st.floats(0.5, 2.0), seed=st.integers(0, 2**31)
)
def test_valid_ranges(dt, gain, seed):
    task = ReadySetGo(
        dt=dt,
        tau=3 * dt,
        T=200 * np.ceil(4000 / (200 * dt)) * dt,
        gain=gain,
        pulse_duration=max(20.0, dt),
        N_batch=8,
    )
    assert_valid_batch(task, task.generate_batch(seed))
