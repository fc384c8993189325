"""Tests of MatchToCategory."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from task_helpers import assert_valid_batch, measured_noise_std, noise_batch_size, noise_outputs

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import MatchToCategory, ring_input


def test_shapes_and_names():
    task = MatchToCategory(N_in=8, N_out=4)
    assert (task.N_in, task.N_out) == (8, 4)
    assert task.input_names == [f"ring_{k}" for k in range(8)]
    assert task.output_names == ["category_0", "category_1", "category_2", "category_3"]
    batch = task.generate_batch(0)
    assert_valid_batch(task, batch)
    task.N_in = 5
    assert task.generate_batch(0).inputs.shape == (50, 200, 5)


def test_periods_and_mask():
    task = MatchToCategory(N_batch=8, stim_noise=0.0)
    batch = task.generate_batch(1)
    assert batch.periods["fixation"].tolist() == [[0, 20]] * 8
    assert batch.periods["stimulus"].tolist() == [[20, 120]] * 8
    assert batch.periods["decision"].tolist() == [[120, 200]] * 8
    assert batch.mask[:, :120].sum() == 0.0
    assert np.all(batch.mask[:, 120:] == 1.0)
    assert np.all(batch.inputs[:, :20] == 0.0)
    assert np.all(batch.inputs[:, 120:] == 0.0)


def test_input_bump_and_targets():
    task = MatchToCategory(N_batch=300, N_out=3, stim_noise=0.0)
    batch = task.generate_batch(2)
    angle = batch.conditions["angle"]
    category = batch.conditions["category"]
    np.testing.assert_array_equal(category, np.floor(angle / (2 * np.pi / 3)).astype(int))
    expected = ring_input(angle, 2 * np.pi * np.arange(16) / 16)
    np.testing.assert_allclose(batch.inputs[:, 50], expected, rtol=1e-5, atol=1e-7)
    assert np.max(batch.inputs) <= 1 / np.sqrt(2 * np.pi) + 1e-6
    rows = np.arange(300)
    np.testing.assert_array_equal(batch.targets[rows, 150, category], np.ones(300))
    assert batch.targets[:, 150].sum() == 300.0


def test_ring_wraps():
    values = ring_input(np.array([0.1]), np.array([2 * np.pi - 0.1, 0.3]))
    np.testing.assert_allclose(
        values[0], np.exp(-0.5 * np.array([0.2, 0.2]) ** 2) / np.sqrt(2 * np.pi)
    )


def test_compat_duplicates_edge_channel():
    task = MatchToCategory(N_batch=4, stim_noise=0.0, psychrnn_compat=True)
    batch = task.generate_batch(3)
    np.testing.assert_array_equal(batch.inputs[:, :, 0], batch.inputs[:, :, -1])
    fixed = MatchToCategory(N_batch=4, stim_noise=0.0).generate_batch(3)
    assert not np.allclose(fixed.inputs[:, 50, 0], fixed.inputs[:, 50, -1])


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0, 50.0])
def test_noise_std(dt):
    task = MatchToCategory(dt=dt, tau=max(100.0, 2 * dt), N_batch=noise_batch_size(dt))
    assert measured_noise_std(task) == pytest.approx(0.1 / (2 * dt), rel=0.03)


def test_same_seed_same_batch():
    task = MatchToCategory(N_batch=10)
    np.testing.assert_array_equal(task.generate_batch(4).inputs, task.generate_batch(4).inputs)
    assert not np.array_equal(task.generate_batch(4).inputs, task.generate_batch(5).inputs)


@pytest.mark.parametrize("n_out", [2, 4])
def test_accuracy_targets_and_noise(n_out):
    task = MatchToCategory(N_batch=4000, N_out=n_out)
    batch = task.generate_batch(5)
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(noise_outputs(batch), batch) == pytest.approx(1 / n_out, abs=0.03)


def test_psychometric():
    task = MatchToCategory(N_batch=800)
    batch = task.generate_batch(6)
    curve = task.psychometric(batch.targets, batch)
    assert curve.variable == "angle"
    np.testing.assert_allclose(curve.levels, (np.arange(16) + 0.5) * 2 * np.pi / 16)
    np.testing.assert_array_equal(curve.choice_fraction, [0.0] * 8 + [1.0] * 8)
    assert curve.counts.sum() == 800


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"T": 1500},
            "T must be at least onset_time + input_duration + output_duration (got T=1500 ms, sum=2000 ms)",
        ),
        ({"N_in": 1}, "N_in must be at least 2 (got N_in=1)"),
        ({"N_out": 1.5}, "N_out must be a whole number (got N_out=1.5)"),
        (
            {"output_duration": 5},
            "output_duration must be at least one time step (got output_duration=5 ms, dt=10 ms)",
        ),
        (
            {"input_duration": 0},
            "input_duration must be larger than 0 ms (got input_duration=0 ms)",
        ),
        ({"onset_time": -5}, "onset_time must be at least 0 ms (got onset_time=-5 ms)"),
    ],
)
def test_invalid_parameters(values, message):
    with pytest.raises(InvalidParameterError) as info:
        MatchToCategory(**values)
    assert str(info.value) == message


@settings(max_examples=25, deadline=None)
@given(
    dt=st.sampled_from([1.0, 5.0, 10.0, 25.0]),
    n_in=st.integers(2, 32),
    n_out=st.integers(2, 8),
    extra=st.integers(0, 50),
    compat=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_valid_ranges(dt, n_in, n_out, extra, compat, seed):
    task = MatchToCategory(
        dt=dt,
        tau=4 * dt,
        T=2000 + extra * dt,
        N_batch=4,
        N_in=n_in,
        N_out=n_out,
        psychrnn_compat=compat,
    )
    assert_valid_batch(task, task.generate_batch(seed))


def test_compat_allows_short_trials():
    task = MatchToCategory(T=1500, N_batch=4, psychrnn_compat=True)
    batch = task.generate_batch(0)
    assert batch.periods["decision"].tolist() == [[120, 150]] * 4
    assert batch.mask.sum() == 4 * 30 * 2
