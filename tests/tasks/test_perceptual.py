"""Tests of PerceptualDiscrimination."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from task_helpers import assert_valid_batch, measured_noise_std, noise_batch_size, noise_outputs

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import PerceptualDiscrimination, psychrnn_noise_std


def test_defaults():
    task = PerceptualDiscrimination()
    assert (task.dt, task.tau, task.T, task.N_batch) == (10.0, 100.0, 2000.0, 50)
    assert task.N_steps == 200
    assert task.coherence is None
    assert task.psychrnn_compat is False
    assert_valid_batch(task, task.generate_batch(0))


def test_periods_and_mask_alignment():
    task = PerceptualDiscrimination(N_batch=64, stim_noise=0.0)
    batch = task.generate_batch(1)
    onset = batch.conditions["onset_time"]
    end = onset + batch.conditions["stim_duration"]
    stimulus = batch.periods["stimulus"]
    np.testing.assert_array_equal(stimulus[:, 0], np.ceil(onset / 10.0))
    np.testing.assert_array_equal(stimulus[:, 1], np.ceil(end / 10.0))
    np.testing.assert_array_equal(batch.periods["fixation"][:, 1], stimulus[:, 0])
    np.testing.assert_array_equal(batch.periods["decision"][:, 0], stimulus[:, 1])
    assert np.all(batch.periods["decision"][:, 1] == 200)
    decision = batch.period_mask("decision")
    np.testing.assert_array_equal(batch.mask[:, :, 0] == 1.0, decision)
    np.testing.assert_array_equal(batch.mask[:, :, 1] == 1.0, decision)
    # Fixed: the target is on wherever the mask is.
    np.testing.assert_array_equal(batch.targets.max(axis=2) > 0, decision)


def test_stimulus_and_target_levels():
    task = PerceptualDiscrimination(N_batch=32, stim_noise=0.0)
    batch = task.generate_batch(2)
    rows = np.arange(32)
    direction = batch.conditions["direction"]
    coherence = batch.conditions["coherence"]
    start = batch.periods["stimulus"][:, 0]
    assert set(np.unique(coherence)) <= {0.1, 0.3, 0.5, 0.7}
    np.testing.assert_allclose(batch.inputs[rows, start, direction], 1.0 + coherence, rtol=1e-6)
    np.testing.assert_array_equal(batch.inputs[rows, start, 1 - direction], np.ones(32))
    assert np.all(batch.inputs[batch.period_mask("fixation")] == 0.0)
    np.testing.assert_allclose(batch.targets[rows, -1, direction], np.ones(32))
    np.testing.assert_allclose(batch.targets[rows, -1, 1 - direction], np.full(32, 0.2), rtol=1e-6)
    np.testing.assert_array_equal(batch.conditions["choice"], direction)
    np.testing.assert_allclose(
        batch.conditions["signed_coherence"], np.where(direction == 1, coherence, -coherence)
    )


def test_epoch_ranges():
    batch = PerceptualDiscrimination(N_batch=2000).generate_batch(3)
    onset = batch.conditions["onset_time"]
    duration = batch.conditions["stim_duration"]
    assert onset.min() >= 0.0
    assert onset.max() < 1000.0
    assert duration.min() >= 250.0
    assert duration.max() < 750.0
    assert onset.max() > 950.0
    assert duration.min() < 260.0


def test_fixed_coherence_and_direction():
    batch = PerceptualDiscrimination(N_batch=20, coherence=0.25, direction=1).generate_batch(4)
    assert np.all(batch.conditions["coherence"] == 0.25)
    assert np.all(batch.conditions["direction"] == 1)
    levels = PerceptualDiscrimination(N_batch=200, coherence_levels=[0.05, 0.9]).generate_batch(4)
    assert set(np.unique(levels.conditions["coherence"])) == {0.05, 0.9}


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0, 50.0])
def test_noise_std(dt):
    task = PerceptualDiscrimination(
        dt=dt, tau=max(100.0, 2 * dt), N_batch=noise_batch_size(dt)
    )
    expected = math.sqrt(2 * 0.01 * math.sqrt(10) * math.sqrt(dt) * 0.1 * 0.1)
    assert psychrnn_noise_std(dt, 0.1) == pytest.approx(expected, rel=1e-12)
    assert measured_noise_std(task) == pytest.approx(expected, rel=0.03)


def test_noise_std_at_dt_10():
    assert psychrnn_noise_std(10.0, 0.1) == pytest.approx(0.04472, abs=1e-5)


def test_same_seed_same_batch():
    task = PerceptualDiscrimination(N_batch=10)
    first, second = task.generate_batch(7), task.generate_batch(7)
    np.testing.assert_array_equal(first.inputs, second.inputs)
    np.testing.assert_array_equal(first.targets, second.targets)
    np.testing.assert_array_equal(first.conditions["onset_time"], second.conditions["onset_time"])
    assert not np.array_equal(first.inputs, task.generate_batch(8).inputs)


def test_accuracy_targets_and_noise():
    task = PerceptualDiscrimination(N_batch=4000)
    batch = task.generate_batch(5)
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(batch.targets[:, :, ::-1], batch) == 0.0
    assert task.accuracy(noise_outputs(batch), batch) == pytest.approx(0.5, abs=0.03)


def test_psychometric():
    task = PerceptualDiscrimination(N_batch=400)
    batch = task.generate_batch(6)
    curve = task.psychometric(batch.targets, batch)
    assert curve.variable == "signed_coherence"
    np.testing.assert_allclose(curve.levels, [-0.7, -0.5, -0.3, -0.1, 0.1, 0.3, 0.5, 0.7])
    np.testing.assert_array_equal(curve.choice_fraction, [0, 0, 0, 0, 1, 1, 1, 1])
    assert curve.counts.sum() == 400
    always_1 = np.zeros_like(batch.targets)
    always_1[:, :, 1] = 1.0
    assert np.all(task.psychometric(always_1, batch).choice_fraction == 1.0)


def test_compat_restores_psychrnn_bugs():
    task = PerceptualDiscrimination(N_batch=64, direction=1, stim_noise=0.0, psychrnn_compat=True)
    batch = task.generate_batch(9)
    # Direction is ignored: both sides are drawn.
    assert set(np.unique(batch.conditions["direction"])) == {0, 1}
    end = batch.conditions["onset_time"] + batch.conditions["stim_duration"]
    mask_start = np.ceil(end / 10.0).astype(int)
    target_start = np.floor((end + 20.0) / 10.0).astype(int) + 1
    rows = np.arange(64)
    np.testing.assert_array_equal(batch.mask[rows, mask_start, 0], np.ones(64))
    np.testing.assert_array_equal(batch.mask[rows, mask_start - 1, 0], np.zeros(64))
    # The 20 ms where the mask is on and the target is still 0.
    assert np.all(batch.targets[rows, mask_start].sum(axis=1) == 0.0)
    assert np.all(batch.targets[rows, target_start - 1].sum(axis=1) == 0.0)
    np.testing.assert_allclose(
        batch.targets[rows, target_start].sum(axis=1), np.full(64, 1.2), rtol=1e-6
    )
    # Strict onset: the stimulus starts at the first step after the onset time.
    onset_step = np.floor(batch.conditions["onset_time"] / 10.0).astype(int) + 1
    np.testing.assert_array_equal(batch.periods["stimulus"][:, 0], onset_step)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"dt": 0}, "dt must be larger than 0 ms (got dt=0 ms)"),
        ({"tau": 10}, "tau must be larger than dt (got tau=10 ms, dt=10 ms)"),
        ({"T": 2005}, "T must be a multiple of dt (got T=2005 ms, dt=10 ms)"),
        (
            {"T": 70},
            "T must be at least 8 * dt so the decision period is never empty (got T=70 ms, dt=10 ms)",
        ),
        ({"N_batch": 0}, "N_batch must be at least 1 (got N_batch=0)"),
        ({"coherence": 1.5}, "coherence must be at most 1 (got coherence=1.5)"),
        ({"coherence": -0.1}, "coherence must be at least 0 (got coherence=-0.1)"),
        (
            {"coherence_levels": []},
            "coherence_levels must contain at least one value (got coherence_levels=[])",
        ),
        ({"direction": 2}, "direction must be one of 0, 1 (got direction=2)"),
        ({"stim_noise": -1}, "stim_noise must be at least 0 (got stim_noise=-1)"),
        (
            {"psychrnn_compat": "yes"},
            "psychrnn_compat must be True or False (got psychrnn_compat='yes')",
        ),
        (
            {"cohrence": 0.1},
            "unknown PerceptualDiscrimination parameter 'cohrence'; did you mean 'coherence'?",
        ),
    ],
)
def test_invalid_parameters(values, message):
    with pytest.raises(InvalidParameterError) as info:
        PerceptualDiscrimination(**values)
    assert str(info.value) == message


@settings(max_examples=25, deadline=None)
@given(
    dt=st.sampled_from([1.0, 2.0, 5.0, 10.0, 20.0]),
    steps=st.integers(8, 300),
    batch=st.integers(1, 16),
    coherence=st.one_of(st.none(), st.floats(0.0, 1.0)),
    compat=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_valid_ranges(dt, steps, batch, coherence, compat, seed):
    task = PerceptualDiscrimination(
        dt=dt,
        tau=2.5 * dt,
        T=steps * dt,
        N_batch=batch,
        coherence=coherence,
        psychrnn_compat=compat,
    )
    assert_valid_batch(task, task.generate_batch(seed))
