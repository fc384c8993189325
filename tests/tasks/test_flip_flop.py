"""Tests of FlipFlop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from task_helpers import assert_valid_batch, measured_noise_std, noise_batch_size, noise_outputs

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import FlipFlop


def _last_pulse_reference(inputs: np.ndarray) -> np.ndarray:
    """Slow per-step reference: the target holds the sign of the last nonzero input."""
    targets = np.zeros_like(inputs)
    for trial in range(inputs.shape[0]):
        for bit in range(inputs.shape[2]):
            state = 0.0
            for step in range(inputs.shape[1]):
                if inputs[trial, step, bit] != 0.0:
                    state = inputs[trial, step, bit]
                targets[trial, step, bit] = state
    return targets


def test_structure():
    task = FlipFlop(N_batch=20, stim_noise=0.0, pulse_duration=30.0)
    assert task.input_names == ["bit_0", "bit_1", "bit_2"]
    assert task.output_names == ["bit_0", "bit_1", "bit_2"]
    batch = task.generate_batch(0)
    assert set(np.unique(batch.inputs)) <= {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(batch.targets, _last_pulse_reference(batch.inputs))
    np.testing.assert_array_equal(batch.mask == 1.0, batch.targets != 0.0)
    first = (
        np.stack([batch.conditions[f"first_pulse_time_{bit}"] for bit in range(3)], axis=1) / 10.0
    )
    assert batch.conditions["first_pulse_time_0"].shape == (20,)
    assert np.all(first <= 50)
    np.testing.assert_array_equal(batch.periods["memory"][:, 0], first.min(axis=1))
    # Each pulse lasts 3 steps unless a newer pulse starts.
    onsets = np.diff(np.abs(batch.inputs), axis=1, prepend=0.0) > 0
    assert batch.conditions["n_pulses"].sum() >= onsets.sum()


def test_pulse_rate():
    batch = FlipFlop(N_batch=400, pulse_rate=5.0, T=4000.0, stim_noise=0.0).generate_batch(1)
    # Expected count: one first pulse per bit, then 5 per second for the rest of the trial.
    mean_pulses = batch.conditions["n_pulses"].mean()
    first = np.stack([batch.conditions[f"first_pulse_time_{bit}"] for bit in range(3)], axis=1)
    expected = 3 + 5.0 * ((4000.0 - first - 10.0) / 1000.0).sum(axis=1).mean()
    assert mean_pulses == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0, 50.0])
def test_noise_std(dt):
    task = FlipFlop(dt=dt, tau=max(100.0, 2 * dt), N_batch=noise_batch_size(dt))
    assert measured_noise_std(task) == pytest.approx(0.05 * np.sqrt(10.0 / dt), rel=0.03)


def test_accuracy():
    task = FlipFlop(N_batch=200)
    batch = task.generate_batch(2)
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(-batch.targets, batch) == 0.0
    assert task.accuracy(noise_outputs(batch), batch) == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"N_bits": 0}, "N_bits must be at least 1 (got N_bits=0)"),
        ({"pulse_rate": 150}, "pulse_rate must be at most 100 Hz (got pulse_rate=150 Hz)"),
        (
            {"pulse_rate": 60, "dt": 20, "tau": 100},
            "pulse_rate * dt must be at most 1000 (one pulse per step) (got pulse_rate=60 Hz, dt=20 ms)",
        ),
        (
            {"pulse_duration": 0},
            "pulse_duration must be larger than 0 ms (got pulse_duration=0 ms)",
        ),
    ],
)
def test_invalid_parameters(values, message):
    with pytest.raises(InvalidParameterError) as info:
        FlipFlop(**values)
    assert str(info.value) == message


@settings(max_examples=20, deadline=None)
@given(
    dt=st.sampled_from([1.0, 5.0, 10.0, 20.0]),
    steps=st.integers(4, 300),
    bits=st.integers(1, 6),
    rate=st.floats(0.0, 20.0),
    seed=st.integers(0, 2**31),
)
def test_valid_ranges(dt, steps, bits, rate, seed):
    task = FlipFlop(dt=dt, tau=3 * dt, T=steps * dt, N_bits=bits, pulse_rate=rate, N_batch=8)
    assert_valid_batch(task, task.generate_batch(seed))
