"""PsychRNN task usage against the compat tasks: parameters, batches, trial functions, accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from psychrnn_widgets.compat.tasks.delayed_discrim import DelayedDiscrimination
from psychrnn_widgets.compat.tasks.match_to_category import MatchToCategory
from psychrnn_widgets.compat.tasks.perceptual_discrimination import PerceptualDiscrimination
from psychrnn_widgets.compat.tasks.task import Task

PD_KEYS = ["coherence", "direction", "onset_time", "stim_duration", "stim_noise"]
DD_KEYS = [
    "choice",
    "decision",
    "delay",
    "end",
    "f1",
    "f2",
    "stim_noise",
    "stimulus_1",
    "stimulus_2",
]
MTC_KEYS = ["angle", "category", "input_dur", "onset_time", "output_dur", "stim_noise"]


def test_task_params_are_the_attribute_dict():
    task = PerceptualDiscrimination(dt=10, tau=100, T=2000, N_batch=128)
    params = task.get_task_params()
    assert params is task.__dict__
    assert params["alpha"] == 0.1
    assert params["N_steps"] == 200
    assert (params["N_in"], params["N_out"], params["N_batch"]) == (2, 2, 128)
    assert "_batch_generator" not in params
    params["name"] = "model"
    assert task.name == "model"


@pytest.mark.parametrize(
    ("task", "n_in", "keys"),
    [
        (PerceptualDiscrimination(10, 100, 500, 6), 2, PD_KEYS),
        (DelayedDiscrimination(10, 100, 500, 6), 2, DD_KEYS),
        (MatchToCategory(10, 100, 2000, 6), 16, MTC_KEYS),
    ],
    ids=["pd", "dd", "mtc"],
)
def test_batch_matches_trial_function(task, n_in, keys):
    x, y, mask, trial_params = task.get_trial_batch()
    assert x.shape == (6, task.N_steps, n_in)
    assert y.shape == mask.shape == (6, task.N_steps, 2)
    assert x.dtype == y.dtype == mask.dtype == np.float64
    assert trial_params.dtype == object
    for index in range(6):
        params = dict(trial_params[index])
        assert sorted(params) == keys
        params["stim_noise"] = 0.0
        _, y_trial, mask_trial = task.generate_trial(params)
        np.testing.assert_allclose(y[index], y_trial, atol=1e-7)
        np.testing.assert_array_equal(mask[index], mask_trial)


def test_seed_repeats_batches():
    task = PerceptualDiscrimination(10, 100, 500, 4)
    np.random.seed(3)
    first = next(task.batch_generator())
    np.random.seed(3)
    second = next(task.batch_generator())
    np.testing.assert_array_equal(first[0], second[0])


def test_accuracy_function():
    task = PerceptualDiscrimination(10, 100, 500, 8)
    _, y, mask, _ = task.get_trial_batch()
    assert task.accuracy_function(y, y, mask) == 1.0
    assert task.accuracy_function(y, y[:, :, ::-1], mask) == 0.0


class CountingTask(Task):
    """A user task in PsychRNN's style that records the batch numbers it is asked for."""

    def __init__(self):
        super().__init__(N_in=1, N_out=1, dt=10, tau=100, T=50, N_batch=2)
        self.seen = []

    def generate_trial_params(self, batch, trial):
        self.seen.append((batch, trial))
        return {"level": float(batch)}

    def trial_function(self, time, params):
        return np.array([params["level"]]), np.array([time]), np.array([1.0])


def test_user_task_generator():
    task = CountingTask()
    x, y, mask, params = task.get_trial_batch()
    task.get_trial_batch()
    # The persistent generator counts batches up (PsychRNN's main branch).
    assert task.seen == [(1, 0), (1, 1), (2, 0), (2, 1)]
    np.testing.assert_array_equal(x[:, :, 0], np.ones((2, 5)))
    np.testing.assert_array_equal(y[0, :, 0], [0, 10, 20, 30, 40])
    assert list(params) == [{"level": 1.0}, {"level": 1.0}]
    assert task.accuracy_function(y, y, mask) is None


def test_direction_is_ignored():
    task = PerceptualDiscrimination(10, 100, 500, 200, direction=1)
    _, _, _, params = task.get_trial_batch()
    directions = {p["direction"] for p in params}
    assert directions == {0, 1}
