"""Tests of ContextDependentIntegration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from task_helpers import assert_valid_batch, measured_noise_std, noise_batch_size, noise_outputs

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import ContextDependentIntegration


def test_structure():
    task = ContextDependentIntegration(N_batch=300, stim_noise=0.0)
    assert task.input_names == ["motion", "color", "context_motion", "context_color", "go"]
    batch = task.generate_batch(0)
    assert batch.periods["stimulus"][0].tolist() == [30, 110]
    assert batch.periods["delay"][0].tolist() == [110, 140]
    assert batch.periods["decision"][0].tolist() == [140, 200]
    c = batch.conditions
    assert set(np.unique(np.abs(c["motion_coherence"]))) == {0.05, 0.15, 0.5}
    np.testing.assert_array_equal(
        c["relevant_coherence"],
        np.where(c["context"] == 0, c["motion_coherence"], c["color_coherence"]),
    )
    np.testing.assert_array_equal(c["choice"], (c["relevant_coherence"] > 0).astype(int))
    np.testing.assert_allclose(batch.inputs[:, 50, 0], c["motion_coherence"], rtol=1e-6)
    np.testing.assert_allclose(batch.inputs[:, 50, 1], c["color_coherence"], rtol=1e-6)
    assert np.all(batch.inputs[:, :30, :2] == 0.0)
    np.testing.assert_array_equal(batch.inputs[:, 0, 2], (c["context"] == 0).astype(np.float32))
    np.testing.assert_array_equal(batch.inputs[:, 199, 3], (c["context"] == 1).astype(np.float32))
    assert np.all(batch.inputs[:, :140, 4] == 0.0)
    assert np.all(batch.inputs[:, 140:, 4] == 1.0)
    assert np.all(batch.mask == 1.0)
    assert np.all(batch.targets[:, :140] == 0.0)
    rows = np.arange(300)
    np.testing.assert_array_equal(batch.targets[rows, 150, c["choice"]], np.ones(300))
    np.testing.assert_array_equal(batch.targets[rows, 150, 1 - c["choice"]], np.zeros(300))


def test_fixed_context_and_coherence():
    batch = ContextDependentIntegration(
        N_batch=50, context="color", color_coherence=-0.2
    ).generate_batch(1)
    assert np.all(batch.conditions["context"] == 1)
    assert np.all(batch.conditions["relevant_coherence"] == -0.2)
    assert np.all(batch.conditions["choice"] == 0)


def test_fixing_one_stream_keeps_other():
    free = ContextDependentIntegration(N_batch=20).generate_batch(5)
    fixed = ContextDependentIntegration(N_batch=20, motion_coherence=0.3).generate_batch(5)
    np.testing.assert_array_equal(
        free.conditions["color_coherence"], fixed.conditions["color_coherence"]
    )


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0, 50.0])
def test_noise_std(dt):
    task = ContextDependentIntegration(
        dt=dt, tau=max(100.0, 2 * dt), N_batch=noise_batch_size(dt)
    )
    assert measured_noise_std(task, channels=[0, 1]) == pytest.approx(
        0.5 * np.sqrt(10.0 / dt), rel=0.03
    )
    assert measured_noise_std(task, channels=[2, 3, 4]) == 0.0


def test_accuracy_and_psychometric():
    task = ContextDependentIntegration(N_batch=3000)
    batch = task.generate_batch(2)
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(noise_outputs(batch), batch) == pytest.approx(0.5, abs=0.03)
    # A choice from the irrelevant stream is correct only where both streams agree in sign.
    wrong_stream = np.zeros_like(batch.targets)
    irrelevant = np.where(
        batch.conditions["context"] == 0,
        batch.conditions["color_coherence"],
        batch.conditions["motion_coherence"],
    )
    wrong_stream[np.arange(3000), :, (irrelevant > 0).astype(int)] = 1.0
    agree = np.sign(irrelevant) == np.sign(batch.conditions["relevant_coherence"])
    assert task.accuracy(wrong_stream, batch) == pytest.approx(np.mean(agree))
    curve = task.psychometric(batch.targets, batch)
    assert curve.variable == "relevant_coherence"
    np.testing.assert_allclose(curve.levels, [-0.5, -0.15, -0.05, 0.05, 0.15, 0.5])
    np.testing.assert_array_equal(curve.choice_fraction, [0, 0, 0, 1, 1, 1])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"motion_coherence": 0.0},
            "motion_coherence must not be 0, because its sign sets the correct choice (got motion_coherence=0)",
        ),
        ({"color_coherence": 1.5}, "color_coherence must be at most 1 (got color_coherence=1.5)"),
        ({"context": "sound"}, "context must be one of 'motion', 'color' (got context='sound')"),
        (
            {"coherence_levels": [0.0, 0.5]},
            "coherence_levels must be larger than 0 (got coherence_levels=[0, 0.5])",
        ),
        (
            {"delay_duration": 900},
            (
                "T must leave at least one step after stim_onset + stim_duration + delay_duration "
                "(got T=2000 ms, go cue at 2000 ms, dt=10 ms)"
            ),
        ),
    ],
)
def test_invalid_parameters(values, message):
    with pytest.raises(InvalidParameterError) as info:
        ContextDependentIntegration(**values)
    assert str(info.value) == message


@settings(max_examples=20, deadline=None)
@given(
    dt=st.sampled_from([1.0, 5.0, 10.0, 20.0]),
    extra=st.integers(1, 100),
    seed=st.integers(0, 2**31),
)
def test_valid_ranges(dt, extra, seed):
    task = ContextDependentIntegration(dt=dt, tau=3 * dt, T=1400 + extra * dt, N_batch=8)
    assert_valid_batch(task, task.generate_batch(seed))
