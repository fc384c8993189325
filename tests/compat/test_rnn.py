"""PsychRNN's RNN contract on the compat models: required keys, defaults, test, train, continuation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from compat_helpers import small_params

from psychrnn_widgets.compat.backend._errors import CompatUsageError
from psychrnn_widgets.compat.backend.models.basic import Basic, BasicScan
from psychrnn_widgets.compat.backend.rnn import REQUIRED_KEYS, RNN
from psychrnn_widgets.compat.tasks.perceptual_discrimination import PerceptualDiscrimination


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_missing_key_raises_key_error(key):
    params = small_params()
    del params[key]
    with pytest.raises(KeyError, match=f"'{key}'"):
        Basic(params)


def test_first_missing_key_is_reported():
    with pytest.raises(KeyError, match="'name'"):
        Basic({})


def test_defaults():
    model = Basic(small_params())
    assert model.rec_noise == 0.0
    assert model.transfer_function is tf.nn.relu
    assert model.alpha == 0.1
    assert model.dale_ratio is None
    for flag in (
        "W_in_train",
        "W_rec_train",
        "W_out_train",
        "b_rec_train",
        "b_out_train",
        "init_state_train",
    ):
        assert getattr(model, flag) is True
    radius = np.max(np.abs(np.linalg.eigvals(model.get_weights()["W_rec"])))
    assert radius == pytest.approx(1.1, rel=1e-5)


def test_forward_pass_is_abstract():
    with pytest.raises(TypeError, match="forward_pass"):
        RNN(small_params())


def test_per_unit_tau():
    tau = np.linspace(50, 200, 10)
    model = Basic(small_params(tau=tau))
    np.testing.assert_allclose(model.alpha, 10.0 / tau.astype(np.float32))


@pytest.mark.parametrize("batch", [1, 4, 7])
def test_any_batch_size(batch):
    model = BasicScan(small_params())
    outputs, states = model.test(np.ones((batch, 30, 2)))
    assert outputs.shape == (batch, 30, 2)
    assert states.shape == (batch, 30, 10)


def test_wrong_steps_rejected():
    model = Basic(small_params())
    with pytest.raises(ValueError, match="N_steps=30"):
        model.test(np.ones((2, 31, 2)))


def test_states_follow_update_equation():
    np.random.seed(1)
    model = Basic(small_params())
    weights = model.get_weights()
    x = np.random.default_rng(2).normal(size=(3, 30, 2)).astype(np.float32)
    outputs, states = model.test(x)
    state = np.repeat(weights["init_state"], 3, axis=0).astype(np.float64)
    for t in range(30):
        rate = np.maximum(state, 0)
        state = 0.9 * state + 0.1 * (
            rate @ weights["W_rec"].T + x[:, t] @ weights["W_in"].T + weights["b_rec"]
        )
        np.testing.assert_allclose(states[:, t], state, atol=1e-5)
        expected = np.maximum(state, 0) @ weights["W_out"].T + weights["b_out"]
        np.testing.assert_allclose(outputs[:, t], expected, atol=1e-5)


def _pd_params():
    task = PerceptualDiscrimination(dt=10, tau=100, T=300, N_batch=16)
    params = dict(task.get_task_params())
    params.update(name="minimal", N_rec=12)
    return task, params


@pytest.mark.parametrize(("training_iters", "updates"), [(16, 1), (33, 3), (100, 7)])
def test_update_count(training_iters, updates):
    task, params = _pd_params()
    model = Basic(params)
    losses, training_time, initialization_time = model.train(
        task, {"training_iters": training_iters, "loss_epoch": 1, "verbosity": False}
    )
    assert len(losses) == updates == math.ceil(training_iters / 16)
    assert all(isinstance(value, float) for value in losses)
    assert training_time >= 0.0
    assert initialization_time >= 0.0


def test_minimal_example():
    task, params = _pd_params()
    np.random.seed(0)
    model = Basic(params)
    losses, _, _ = model.train(task, {"training_iters": 160, "loss_epoch": 2, "verbosity": False})
    assert len(losses) == 5
    x, _, _, _ = task.get_trial_batch()
    outputs, states = model.test(x)
    assert outputs.shape == (16, 30, 2)
    assert states.shape == (16, 30, 12)


def test_second_train_continues():
    task, params = _pd_params()
    np.random.seed(4)
    model = Basic(params)
    initial = model.get_weights()["W_rec"]
    model.train(task, {"training_iters": 16 * 8, "verbosity": False})
    after_first = model.get_weights()["W_rec"]
    assert np.max(np.abs(after_first - initial)) > 0.003
    model.train(task, {"training_iters": 16, "verbosity": False})
    after_second = model.get_weights()
    # One Adam step moves each entry by at most the learning rate (0.001).
    assert 0 < np.max(np.abs(after_second["W_rec"] - after_first)) <= 0.001 + 1e-6
    for key in ("W_rec/Adam", "W_rec/Adam_1", "W_rec/Adam_2", "W_rec/Adam_3"):
        assert key in after_second


def test_performance_measure_stops_training():
    task, params = _pd_params()
    model = Basic(params)
    epochs = []

    def measure(trial_batch, trial_y, output_mask, output, epoch, losses, verbosity):
        epochs.append(epoch)
        assert output.shape == trial_y.shape
        return epoch

    model.train(
        task,
        {
            "training_iters": 16 * 50,
            "performance_measure": measure,
            "performance_cutoff": 3,
            "verbosity": False,
        },
    )
    assert epochs == [1, 2, 3]


@pytest.mark.parametrize("key", ["performance_measure", "performance_cutoff"])
def test_performance_pair_required(key):
    task, params = _pd_params()
    model = Basic(params)
    value = (lambda *args: 1.0) if key == "performance_measure" else 0.9
    with pytest.raises(
        CompatUsageError, match="performance_measure and performance_cutoff"
    ) as error:
        model.train(task, {key: value, "verbosity": False})
    assert isinstance(error.value, UserWarning)


def test_train_curric_requires_curriculum():
    _, params = _pd_params()
    with pytest.raises(UserWarning, match="requires a curriculum"):
        Basic(params).train_curric({})


def test_custom_loss_and_missing_custom_loss():
    task, params = _pd_params()
    with pytest.raises(
        UserWarning, match="Loss type is 'my_loss' but 'my_loss' is not an entry in params"
    ):
        Basic({**params, "loss_function": "my_loss"})
    calls = []

    def my_loss(predictions, y, output_mask):
        calls.append(predictions.shape)
        return tf.reduce_mean(tf.abs(predictions - y))

    model = Basic({**params, "loss_function": "my_loss", "my_loss": my_loss})
    x, y, mask, _ = task.get_trial_batch()
    outputs, _ = model.test(x)
    assert model.get_loss(x, y, mask) == pytest.approx(np.mean(np.abs(outputs - y)), rel=1e-5)
    assert calls


def test_loss_and_regularization_formulas():
    task, params = _pd_params()
    weights = {"L1_in": 0.1, "L2_rec": 0.2, "L1_out": 0.3, "L2_firing_rate": 0.4}
    model = Basic({**params, **weights})
    x, y, mask, _ = task.get_trial_batch()
    outputs, states = model.test(x)
    w = model.get_weights()
    expected = (
        np.mean((mask * (outputs - y)) ** 2)
        + 0.1 * np.mean(np.abs(w["W_in"]))
        + 0.2 * np.mean(w["W_rec"] ** 2)
        + 0.3 * np.mean(np.abs(w["W_out"]))
        + 0.4 * np.mean(np.maximum(states, 0) ** 2)
    )
    assert model.get_loss(x, y, mask) == pytest.approx(expected, rel=1e-5)
    bce = Basic({**params, "name": "bce", "loss_function": "binary_cross_entropy"})
    outputs, _ = bce.test(x)
    p = np.clip(outputs, 1e-7, 1 - 1e-7)
    expected = np.mean(mask * -(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7)))
    assert bce.get_loss(x, y, mask) == pytest.approx(expected, rel=1e-4)
