"""PsychRNN-compatible names reject bad settings when they are made, with our error."""

from __future__ import annotations

import pytest

from psychrnn_widgets.compat.tasks.delayed_discrim import DelayedDiscrimination
from psychrnn_widgets.compat.tasks.match_to_category import MatchToCategory
from psychrnn_widgets.compat.tasks.perceptual_discrimination import PerceptualDiscrimination
from psychrnn_widgets.compat.tasks.task import Task
from psychrnn_widgets.errors import InvalidParameterError

GOOD = {"dt": 10, "tau": 100, "T": 2000, "N_batch": 50}


class ConstantTask(Task):
    """A user task as PsychRNN users write them: one trial at a time."""

    def generate_trial_params(self, batch, trial):
        return {}

    def trial_function(self, time, params):
        return [1.0], [0.0], [1.0]


TASK_CASES = [
    (PerceptualDiscrimination, {"tau": 5}, "tau must be larger than dt (got tau=5 ms, dt=10 ms)"),
    (PerceptualDiscrimination, {"dt": 0}, "dt must be larger than 0 ms (got dt=0 ms)"),
    (PerceptualDiscrimination, {"dt": "10"}, "dt must be a number (got dt='10' ms)"),
    (PerceptualDiscrimination, {"T": -5}, "T must be larger than 0 ms (got T=-5 ms)"),
    (PerceptualDiscrimination, {"N_batch": 0}, "N_batch must be at least 1 (got N_batch=0)"),
    (PerceptualDiscrimination, {"N_batch": 50.5}, "N_batch must be a whole number (got N_batch=50.5)"),
    (PerceptualDiscrimination, {"coherence": 2.0}, "coherence must be at most 1 (got coherence=2)"),
    (DelayedDiscrimination, {"onset_time": -1},
     "onset_time must be at least 0 ms (got onset_time=-1 ms)"),
    (MatchToCategory, {"N_in": 1}, "N_in must be at least 2 (got N_in=1)"),
]


@pytest.mark.parametrize(("cls", "changes", "message"), TASK_CASES)
def test_compat_task_rejects_when_made(cls, changes, message):
    with pytest.raises(InvalidParameterError) as caught:
        cls(**{**GOOD, **changes})
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"N_in": 0}, "N_in must be larger than 0 (got N_in=0)"),
        ({"N_out": 1.5}, "N_out must be an integer larger than 0 (got 1.5)"),
        ({"dt": float("nan")}, "dt must be finite (got dt=nan ms)"),
        ({"tau": -1}, "tau must be larger than 0 ms (got tau=-1 ms)"),
    ],
)
def test_user_task_base_rejects_when_made(changes, message):
    values = {"N_in": 1, "N_out": 1, **GOOD, **changes}
    with pytest.raises(InvalidParameterError) as caught:
        ConstantTask(**values)
    assert str(caught.value) == message


def test_valid_tasks_keep_values_as_given():
    task = ConstantTask(N_in=1, N_out=1, dt=10, tau=100, T=200, N_batch=3)
    params = task.get_task_params()
    assert (params["dt"], params["N_batch"], params["N_steps"]) == (10, 3, 20)
    assert type(params["dt"]) is int
    assert PerceptualDiscrimination(**GOOD).get_task_params()["coherence"] is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"N_rec": 0}, "N_rec must be larger than 0 (got N_rec=0)"),
        ({"N_steps": -3}, "N_steps must be larger than 0 (got N_steps=-3)"),
        ({"N_batch": 2.5}, "N_batch must be an integer larger than 0 (got 2.5)"),
        ({"dt": 0}, "dt must be larger than 0 (got dt=0 ms)"),
    ],
)
@pytest.mark.slow
def test_compat_network_rejects_bad_sizes(changes, message):
    from psychrnn_widgets.compat.backend.models.basic import Basic

    params = {"name": "m", "N_in": 2, "N_rec": 5, "N_out": 2, "N_steps": 10, "dt": 10,
              "tau": 100, "N_batch": 5, **changes}
    with pytest.raises(InvalidParameterError) as caught:
        Basic(params)
    assert str(caught.value) == message
