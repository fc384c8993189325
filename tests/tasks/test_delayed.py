"""Tests of DelayedDiscrimination."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from task_helpers import assert_valid_batch, measured_noise_std, noise_batch_size, noise_outputs

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import DelayedDiscrimination

PERIODS = ["fixation", "stimulus_1", "delay", "stimulus_2", "decision"]
LENGTHS = [
    "onset_time",
    "stim_duration_1",
    "delay_duration",
    "stim_duration_2",
    "decision_duration",
]


def test_shapes_and_defaults():
    task = DelayedDiscrimination()
    assert (task.N_in, task.N_out, task.N_steps) == (2, 2, 200)
    assert_valid_batch(task, task.generate_batch(0))


def test_periods_follow_epochs():
    task = DelayedDiscrimination(N_batch=64, stim_noise=0.0)
    batch = task.generate_batch(1)
    start = np.zeros(64)
    for period, length in zip(PERIODS, LENGTHS):
        end = start + batch.conditions[length]
        np.testing.assert_array_equal(batch.periods[period][:, 0], np.ceil(start / 10.0 - 1e-6))
        np.testing.assert_array_equal(batch.periods[period][:, 1], np.ceil(end / 10.0 - 1e-6))
        start = end
    for earlier, later in itertools.pairwise(PERIODS):
        np.testing.assert_array_equal(batch.periods[earlier][:, 1], batch.periods[later][:, 0])
    decision = batch.period_mask("decision")
    np.testing.assert_array_equal(batch.mask[:, :, 0] == 1.0, decision)
    np.testing.assert_array_equal(batch.mask[:, :, 1] == 1.0, decision)


def test_epoch_lengths_fixed_bounds():
    batch = DelayedDiscrimination(N_batch=3000).generate_batch(2)
    assert batch.conditions["onset_time"].min() >= 0.0
    assert batch.conditions["onset_time"].max() < 250.0
    for name, largest in [
        ("stim_duration_1", 500),
        ("delay_duration", 500),
        ("stim_duration_2", 500),
    ]:
        assert batch.conditions[name].min() >= 125.0, name
        assert batch.conditions[name].max() < largest, name
    assert batch.conditions["decision_duration"].min() >= 125.0
    assert batch.conditions["decision_duration"].max() < 250.0
    assert np.all(np.diff(batch.periods["decision"], axis=1) >= 12)


def test_compat_epochs_can_vanish():
    batch = DelayedDiscrimination(N_batch=3000, psychrnn_compat=True).generate_batch(2)
    assert batch.conditions["decision_duration"].min() < 5.0
    assert batch.conditions["stim_duration_1"].min() < 5.0
    assert np.any(batch.mask.sum(axis=(1, 2)) == 0)


def test_fixed_epoch_lengths():
    task = DelayedDiscrimination(
        N_batch=4,
        onset_time=100,
        stim_duration_1=300,
        delay_duration=400,
        stim_duration_2=300,
        decision_duration=200,
    )
    batch = task.generate_batch(3)
    assert batch.periods["stimulus_1"].tolist() == [[10, 40]] * 4
    assert batch.periods["delay"].tolist() == [[40, 80]] * 4
    assert batch.periods["stimulus_2"].tolist() == [[80, 110]] * 4
    assert batch.periods["decision"].tolist() == [[110, 130]] * 4
    assert batch.mask[:, 130:].sum() == 0.0


def test_stimulus_and_target_levels():
    task = DelayedDiscrimination(N_batch=200, stim_noise=0.0)
    batch = task.generate_batch(4)
    f1, f2, choice = batch.conditions["f1"], batch.conditions["f2"], batch.conditions["choice"]
    np.testing.assert_array_equal(choice, (f1 < f2).astype(int))
    np.testing.assert_array_equal(np.abs(f1 - f2), np.full(200, 8.0))
    assert set(np.unique(f1)) == {10.0, 14.0, 18.0, 22.0, 26.0, 30.0, 34.0}
    rows = np.arange(200)
    first = batch.periods["stimulus_1"][:, 0]
    second = batch.periods["stimulus_2"][:, 0]
    np.testing.assert_allclose(batch.inputs[rows, first, 0], 0.4 + 0.8 * (f1 - 10) / 24, rtol=1e-6)
    np.testing.assert_allclose(batch.inputs[rows, first, 1], 0.4 + 0.8 * (34 - f1) / 24, rtol=1e-6)
    np.testing.assert_allclose(batch.inputs[rows, second, 0], 0.4 + 0.8 * (f2 - 10) / 24, rtol=1e-6)
    assert np.all(batch.inputs[batch.period_mask("delay")] == 0.0)
    decision = batch.periods["decision"][:, 0]
    np.testing.assert_allclose(batch.targets[rows, decision, choice], np.ones(200))
    np.testing.assert_allclose(
        batch.targets[rows, decision, 1 - choice], np.full(200, 0.2), rtol=1e-6
    )


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0, 50.0])
def test_noise_std(dt):
    task = DelayedDiscrimination(
        dt=dt,
        tau=max(100.0, 2 * dt),
        T=4000.0 if dt == 50.0 else 2000.0,
        N_batch=noise_batch_size(dt),
    )
    expected = math.sqrt(0.02 * math.sqrt(10 * dt)) * 0.1
    assert measured_noise_std(task) == pytest.approx(expected, rel=0.03)


def test_same_seed_same_batch():
    task = DelayedDiscrimination(N_batch=10)
    np.testing.assert_array_equal(task.generate_batch(5).inputs, task.generate_batch(5).inputs)
    np.testing.assert_array_equal(
        task.generate_batch(5).conditions["f1"], task.generate_batch(5).conditions["f1"]
    )
    assert not np.array_equal(task.generate_batch(5).inputs, task.generate_batch(6).inputs)


def test_accuracy_targets_and_noise():
    task = DelayedDiscrimination(N_batch=4000)
    batch = task.generate_batch(6)
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(batch.targets[:, :, ::-1], batch) == 0.0
    assert task.accuracy(noise_outputs(batch), batch) == pytest.approx(0.5, abs=0.03)


def test_psychometric():
    task = DelayedDiscrimination(N_batch=500)
    batch = task.generate_batch(7)
    curve = task.psychometric(batch.targets, batch)
    assert curve.variable == "f1"
    np.testing.assert_array_equal(curve.levels, [10, 14, 18, 22, 26, 30, 34])
    assert curve.choice_fraction[0] == 0.0
    assert curve.choice_fraction[-1] == 1.0
    f1 = batch.conditions["f1"]
    expected = [np.mean(batch.conditions["choice"][f1 == level] == 0) for level in curve.levels]
    np.testing.assert_allclose(curve.choice_fraction, expected)
    assert curve.counts.sum() == 500


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"T": 150},
            "T must be at least 16 * dt so every drawn epoch lasts a step (got T=150 ms, dt=10 ms)",
        ),
        (
            {"decision_duration": 5},
            "decision_duration must be at least one time step (got decision_duration=5 ms, dt=10 ms)",
        ),
        (
            {"stim_duration_1": 0},
            "stim_duration_1 must be larger than 0 ms (got stim_duration_1=0 ms)",
        ),
        ({"onset_time": -1}, "onset_time must be at least 0 ms (got onset_time=-1 ms)"),
        (
            {"delay_duration": 1500},
            (
                "the epochs must fit in T: onset, stimuli, delay and decision can last 3000 ms "
                "(got T=2000 ms); shorten an epoch or raise T"
            ),
        ),
        ({"stim_noise": -0.1}, "stim_noise must be at least 0 (got stim_noise=-0.1)"),
        ({"tau": 5}, "tau must be larger than dt (got tau=5 ms, dt=10 ms)"),
    ],
)
def test_invalid_parameters(values, message):
    with pytest.raises(InvalidParameterError) as info:
        DelayedDiscrimination(**values)
    assert str(info.value) == message


def test_compat_allows_long_epochs():
    task = DelayedDiscrimination(delay_duration=1500, psychrnn_compat=True)
    assert task.delay_duration == 1500.0


@settings(max_examples=25, deadline=None)
@given(
    dt=st.sampled_from([1.0, 5.0, 10.0, 20.0]),
    steps=st.integers(16, 300),
    batch=st.integers(1, 16),
    seed=st.integers(0, 2**32 - 1),
)
def test_valid_ranges(dt, steps, batch, seed):
    task = DelayedDiscrimination(dt=dt, tau=3 * dt, T=steps * dt, N_batch=batch)
    assert_valid_batch(task, task.generate_batch(seed))
