"""Tests of the NeuroGym adapter against the real neurogym package."""

from __future__ import annotations

import numpy as np
import pytest

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import NeuroGymTask, Task, from_neurogym

neurogym = pytest.importorskip("neurogym")

pytestmark = pytest.mark.filterwarnings("ignore:.*render_modes.*:UserWarning")

ENVS = [
    ("PerceptualDecisionMaking-v0", {"dt": 20}),
    ("ContextDecisionMaking-v0", {}),
    ("DelayMatchSample-v0", {"dt": 50}),
]


def _reference_trials(
    task: NeuroGymTask, seed: int
) -> list[tuple[np.ndarray, np.ndarray, dict, dict, dict]]:
    """Draw the same trials straight from the env, the way the adapter seeds it."""
    env = task.env.unwrapped
    env.seed(int(np.random.default_rng(seed).integers(0, 2**31 - 1)))
    trials = []
    for _ in range(task.N_batch):
        info = env.new_trial()
        trials.append((env.ob.copy(), env.gt.copy(), dict(env.start_ind), dict(env.end_ind), info))
    return trials


@pytest.mark.parametrize(("env_id", "options"), ENVS)
def test_batch_matches_env_trials(env_id, options):
    task = from_neurogym(env_id, 12, **options)
    assert isinstance(task, Task)
    batch = task.generate_batch(4)
    assert batch.inputs.shape == (12, task.N_steps, task.N_in)
    assert batch.targets.shape == (12, task.N_steps, task.N_out)
    assert batch.inputs.dtype == np.float32
    assert batch.mask.dtype == np.float32
    for index, (ob, gt, start, end, info) in enumerate(_reference_trials(task, 4)):
        length = len(ob)
        assert batch.conditions["trial_steps"][index] == length
        np.testing.assert_array_equal(batch.inputs[index, :length], ob)
        assert np.all(batch.inputs[index, length:] == 0.0)
        np.testing.assert_array_equal(batch.targets[index, :length], np.eye(task.N_out)[gt])
        assert np.all(batch.targets[index, length:] == 0.0)
        assert np.all(batch.mask[index, :length] == 1.0)
        assert np.all(batch.mask[index, length:] == 0.0)
        for name in start:
            assert batch.periods[name][index].tolist() == [
                start[name],
                max(end[name], start[name]),
            ], name
        assert batch.periods["padding"][index].tolist() == [length, task.N_steps]
        assert batch.conditions["ground_truth"][index] == info["ground_truth"]
        assert batch.conditions["choice"][index] == info["ground_truth"]


def test_conditions_from_trial_info():
    batch = from_neurogym("ContextDecisionMaking-v0", 40).generate_batch(1)
    assert set(batch.conditions) >= {
        "context",
        "coh_1",
        "coh_2",
        "ground_truth",
        "choice",
        "trial_steps",
    }
    # The env's context is a constructor option (0 by default); the coherences are drawn per trial.
    assert np.all(batch.conditions["context"] == 0)
    assert len(np.unique(batch.conditions["coh_1"])) > 1
    # The delay is drawn per trial, so lengths differ and the shorter trials are padded.
    assert len(np.unique(batch.conditions["trial_steps"])) > 1
    assert not batch.conditions["truncated"].any()


def test_names_and_defaults():
    task = from_neurogym("DelayMatchSample-v0", 8)
    assert task.input_names == ["fixation", "stimulus_0", "stimulus_1"]
    assert task.output_names == ["fixation", "match", "non-match"]
    assert task.dt == 100.0
    assert task.tau == 1000.0
    assert task.T == 3200.0
    assert task.name == "neurogym:DelayMatchSample-v0"
    assert task.description


@pytest.mark.parametrize(("env_id", "options"), ENVS)
def test_accuracy_targets_and_noise(env_id, options):
    task = from_neurogym(env_id, 600, **options)
    batch = task.generate_batch(2)
    assert task.accuracy(batch.targets, batch) == 1.0
    noise = np.random.default_rng(3).uniform(0.0, 1.0, batch.targets.shape)
    # Three outputs, of which the decision period's target is one of the two choices.
    assert task.accuracy(noise, batch) == pytest.approx(1 / 3, abs=0.06)


def test_same_seed_same_batch():
    task = from_neurogym("PerceptualDecisionMaking-v0", 6, dt=20)
    first, second = task.generate_batch(9), task.generate_batch(9)
    np.testing.assert_array_equal(first.inputs, second.inputs)
    assert not np.array_equal(first.inputs, task.generate_batch(10).inputs)


def test_mask_periods():
    task = from_neurogym("DelayMatchSample-v0", 8, mask_periods=("fixation", "decision"))
    batch = task.generate_batch(0)
    expected = batch.period_mask("fixation") | batch.period_mask("decision")
    np.testing.assert_array_equal(batch.mask[:, :, 0] == 1.0, expected)


def test_short_T_truncates():
    task = from_neurogym("PerceptualDecisionMaking-v0", 4, dt=20, T=1000.0)
    batch = task.generate_batch(0)
    assert task.N_steps == 50
    assert batch.conditions["truncated"].all()
    assert batch.periods["decision"].tolist() == [[50, 50]] * 4
    assert task.accuracy(batch.targets, batch) == 0.0


def test_env_object_and_replace():
    env = neurogym.make("GoNogo-v0")
    task = from_neurogym(env, 5)
    other = task.replace(N_batch=7)
    assert other.generate_batch(0).N_batch == 7
    assert other.env is env


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: from_neurogym("ReachingDelayResponse-v0", 4),
            "from_neurogym needs an env with a discrete action space",
        ),
        (
            lambda: from_neurogym(neurogym.make("GoNogo-v0"), 4, dt=10),
            "dt must equal the env's dt (got dt=10 ms, env dt=100 ms)",
        ),
        (
            lambda: from_neurogym(neurogym.make("GoNogo-v0"), 4, timing={"fixation": 0}),
            "environment options ['timing'] need an env id, not an env object",
        ),
        (
            lambda: from_neurogym("GoNogo-v0", 4).replace(dt=50),
            (
                "dt must equal the NeuroGym env's dt; pass dt to from_neurogym to change it "
                "(got dt=50 ms, env dt=100 ms)"
            ),
        ),
        (
            lambda: from_neurogym("GoNogo-v0", 4, tau=50),
            "tau must be larger than dt (got tau=50 ms, dt=100 ms)",
        ),
    ],
)
def test_invalid_use(call, message):
    with pytest.raises(InvalidParameterError) as info:
        call()
    assert message in str(info.value)


def test_copy_shares_env_and_pickle_fails():
    import copy
    import pickle

    task = from_neurogym("GoNogo-v0", 4)
    clone = copy.deepcopy(task)
    assert clone == task
    assert clone.env is task.env
    assert type(clone).__module__ == "psychrnn_widgets.tasks.neurogym_adapter"
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(task)
