"""Tests of DelayedMatchToSample."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from task_helpers import assert_valid_batch, measured_noise_std, noise_batch_size, noise_outputs

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import DelayedMatchToSample


def test_structure():
    task = DelayedMatchToSample(N_batch=400, stim_noise=0.0)
    assert task.input_names == ["fixation", "stimulus_0", "stimulus_1", "stimulus_2", "stimulus_3"]
    batch = task.generate_batch(0)
    c = batch.conditions
    assert c["delay_duration"].min() >= 300.0
    assert c["delay_duration"].max() < 700.0
    np.testing.assert_array_equal(c["match"] == 1, c["sample"] == c["test"])
    np.testing.assert_array_equal(c["choice"], 1 - c["match"])
    assert 0.4 < c["match"].mean() < 0.6
    assert batch.periods["sample"][0].tolist() == [20, 50]
    np.testing.assert_array_equal(
        batch.periods["delay"][:, 1], np.ceil((500.0 + c["delay_duration"]) / 10.0 - 1e-6)
    )
    rows = np.arange(400)
    np.testing.assert_array_equal(batch.inputs[:, 30, 1:], np.eye(4)[c["sample"]])
    test_start = batch.periods["test"][:, 0]
    np.testing.assert_array_equal(batch.inputs[rows, test_start, 1:], np.eye(4)[c["test"]])
    assert np.all(batch.inputs[batch.period_mask("delay")][:, 1:] == 0.0)
    decision = batch.periods["decision"][:, 0]
    np.testing.assert_array_equal(batch.inputs[rows, decision - 1, 0], np.ones(400))
    np.testing.assert_array_equal(batch.inputs[rows, decision, 0], np.zeros(400))
    np.testing.assert_array_equal(batch.mask[:, :, 0] == 1.0, batch.period_mask("decision"))
    np.testing.assert_array_equal(batch.targets[rows, decision, c["choice"]], np.ones(400))


def test_non_match_uses_every_other_stimulus():
    batch = DelayedMatchToSample(N_batch=2000, N_stimuli=3, match_probability=0.0).generate_batch(1)
    c = batch.conditions
    assert np.all(c["sample"] != c["test"])
    assert set(zip(c["sample"].tolist(), c["test"].tolist())) == {
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 2),
        (2, 0),
        (2, 1),
    }


@pytest.mark.parametrize("dt", [1.0, 10.0, 20.0, 50.0])
def test_noise_std(dt):
    task = DelayedMatchToSample(dt=dt, tau=max(100.0, 2 * dt), N_batch=noise_batch_size(dt))
    assert measured_noise_std(task) == pytest.approx(0.1 * np.sqrt(10.0 / dt), rel=0.03)


def test_accuracy():
    task = DelayedMatchToSample(N_batch=3000, delay_duration=400.0)
    batch = task.generate_batch(2)
    assert np.all(batch.conditions["delay_duration"] == 400.0)
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(batch.targets[:, :, ::-1], batch) == 0.0
    assert task.accuracy(noise_outputs(batch), batch) == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"delay_min": 800},
            "delay_min must be smaller than delay_max (got delay_min=800 ms, delay_max=700 ms)",
        ),
        ({"N_stimuli": 1}, "N_stimuli must be at least 2 (got N_stimuli=1)"),
        (
            {"test_duration": 5},
            "test_duration must be at least one time step (got test_duration=5 ms, dt=10 ms)",
        ),
        (
            {"delay_duration": 1200},
            "T must be at least the sum of the epochs, longest delay included (got T=2000 ms, sum=2300 ms)",
        ),
        (
            {"match_probability": -0.5},
            "match_probability must be at least 0 (got match_probability=-0.5)",
        ),
    ],
)
def test_invalid_parameters(values, message):
    with pytest.raises(InvalidParameterError) as info:
        DelayedMatchToSample(**values)
    assert str(info.value) == message


@settings(max_examples=20, deadline=None)
@given(
    dt=st.sampled_from([1.0, 5.0, 10.0, 20.0]),
    n=st.integers(2, 10),
    extra=st.integers(0, 100),
    seed=st.integers(0, 2**31),
)
def test_valid_ranges(dt, n, extra, seed):
    task = DelayedMatchToSample(dt=dt, tau=3 * dt, T=1800 + extra * dt, N_stimuli=n, N_batch=8)
    assert_valid_batch(task, task.generate_batch(seed))
