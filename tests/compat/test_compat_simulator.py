"""PsychRNN's simulator usage (OtherFeatures notebook) against the compat simulators."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from compat_helpers import small_params

from psychrnn_widgets.compat.backend.models.basic import Basic
from psychrnn_widgets.compat.backend.models.lstm import LSTM
from psychrnn_widgets.compat.backend.simulation import BasicSimulator, LSTMSimulator, relu, sigmoid


@pytest.fixture(scope="module")
def model():
    np.random.seed(2)
    return Basic(small_params(name="simulated", dale_ratio=0.8))


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(3).normal(0.5, 0.5, size=(5, 30, 2)).astype(np.float32)


def test_helpers():
    np.testing.assert_array_equal(relu(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 2.0])
    np.testing.assert_allclose(sigmoid(np.array([0.0, np.log(3.0)])), [0.5, 0.75])


def test_three_weight_sources_match_model(model, inputs, tmp_path):
    expected_outputs, expected_states = model.test(inputs)
    model.save(tmp_path / "weights")
    simulators = [
        BasicSimulator(rnn_model=model),
        BasicSimulator(weights_path=str(tmp_path / "weights.npz"), params={"dt": 10, "tau": 100}),
        BasicSimulator(weights=model.get_weights(), params={"alpha": 0.1}),
    ]
    for simulator in simulators:
        assert simulator.alpha == pytest.approx(0.1)
        outputs, states = simulator.run_trials(inputs)
        np.testing.assert_allclose(outputs, expected_outputs, atol=1e-5)
        np.testing.assert_allclose(states, expected_states, atol=1e-5)


def test_single_trial(model, inputs):
    outputs, _ = BasicSimulator(rnn_model=model).run_trials(inputs[:1])
    assert outputs.shape == (1, 30, 2)
    np.testing.assert_allclose(outputs, model.test(inputs[:1])[0], atol=1e-5)


def test_t_connectivity_ablation(model, inputs):
    simulator = BasicSimulator(weights=model.get_weights(), params={"alpha": 0.1})
    ablated, _ = simulator.run_trials(inputs, t_connectivity=np.zeros((30, 10, 10)))
    weights = dict(model.get_weights())
    weights["W_rec"] = np.zeros_like(weights["W_rec"])
    no_recurrence, _ = BasicSimulator(weights=weights, params={"alpha": 0.1}).run_trials(inputs)
    np.testing.assert_allclose(ablated, no_recurrence, atol=1e-12)


MESSAGES = [
    (
        {"params": {"dt": 10, "tau": 100}},
        "params was passed in but will not be used. rnn_model takes precedence.",
    ),
    (
        {"weights": "weights"},
        (
            "Weights and either rnn_model or weights_path were passed in. Weights from rnn_model and "
            "weights_path will be ignored."
        ),
    ),
    (
        {"weights_path": "unused.npz"},
        "rnn_model and weights_path were both passed in. Weights from rnn_model will be ignored.",
    ),
]


@pytest.mark.parametrize(("extra", "message"), MESSAGES)
def test_conflicting_sources(model, extra, message):
    if extra.get("weights") == "weights":
        extra = {"weights": model.get_weights()}
    with pytest.raises(UserWarning) as error:
        BasicSimulator(rnn_model=model, **extra)
    assert str(error.value) == message


def test_no_source():
    with pytest.raises(UserWarning) as error:
        BasicSimulator(params={"dt": 10, "tau": 100})
    assert str(error.value) == "Either weights, rnn_model, or weights_path must be passed in."


def test_transfer_function_names_must_match(model):
    with pytest.raises(UserWarning, match="their names do not match") as error:
        BasicSimulator(rnn_model=model, transfer_function=np.tanh)
    assert "relu" in str(error.value)
    assert "tanh" in str(error.value)


def test_lstm_simulator_matches_when_rows_agree(inputs):
    tf.random.set_seed(0)
    lstm = LSTM(small_params(name="lstm"))
    lstm.init_hidden.assign(tf.tile(lstm.init_hidden[:1], [4, 1]))
    lstm.init_cell.assign(tf.tile(lstm.init_cell[:1], [4, 1]))
    expected, expected_states = lstm.test(inputs)
    outputs, states = LSTMSimulator(rnn_model=lstm).run_trials(inputs)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    np.testing.assert_allclose(states, expected_states, atol=1e-5)
