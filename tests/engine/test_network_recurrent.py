"""LSTM and GRU: equations against NumPy, PsychRNN's hidden-state option, files, interface."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import (
    GRU,
    LSTM,
    NetworkConfig,
    Trainer,
    TrainingConfig,
    build_network,
    load_network,
    save_network,
)
from psychrnn_widgets.engine._recurrence import compiling_for_xla, for_xla
from psychrnn_widgets.engine.regularizers import compute_regularization
from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import FlipFlop


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_reference(w, inputs, hidden_activation):
    n_batch, n_steps, _ = inputs.shape
    hidden = np.repeat(w["init_hidden"], n_batch, axis=0)
    cell = np.repeat(w["init_cell"], n_batch, axis=0)
    states = []
    for t in range(n_steps):
        joint = np.concatenate([hidden, inputs[:, t]], axis=1)
        f = sigmoid(joint @ w["W_f"] + w["b_f"])
        i = sigmoid(joint @ w["W_i"] + w["b_i"])
        g = np.tanh(joint @ w["W_c"] + w["b_c"])
        o = sigmoid(joint @ w["W_o"] + w["b_o"])
        cell = f * cell + i * g
        hidden = o * hidden_activation(cell)
        states.append(hidden)
    states = np.stack(states, axis=1)
    return states @ w["W_out"].T + w["b_out"], states


def gru_reference(w, inputs):
    n_batch, n_steps, _ = inputs.shape
    hidden = np.repeat(w["init_state"], n_batch, axis=0)
    states = []
    for t in range(n_steps):
        joint = np.concatenate([hidden, inputs[:, t]], axis=1)
        z = sigmoid(joint @ w["W_z"] + w["b_z"])
        r = sigmoid(joint @ w["W_r"] + w["b_r"])
        n = np.tanh(np.concatenate([r * hidden, inputs[:, t]], axis=1) @ w["W_h"] + w["b_h"])
        hidden = (1 - z) * hidden + z * n
        states.append(hidden)
    states = np.stack(states, axis=1)
    return states @ w["W_out"].T + w["b_out"], states


@pytest.mark.parametrize(("option", "activation"), [("tanh", np.tanh), ("sigmoid", sigmoid)])
def test_lstm_matches_reference(option, activation):
    config = NetworkConfig(
        N_in=3,
        N_rec=6,
        N_out=2,
        model="lstm",
        lstm_hidden_activation=option,
        seed=1,
        dtype="float64",
    )
    network = build_network(config)
    assert isinstance(network, LSTM)
    inputs = np.random.default_rng(0).normal(size=(4, 20, 3))
    outputs, states = network.run(inputs)
    expected_outputs, expected_states = lstm_reference(network.get_weights(), inputs, activation)
    np.testing.assert_allclose(states, expected_states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(outputs, expected_outputs, rtol=0, atol=1e-12)


def test_gru_matches_reference():
    network = build_network(
        NetworkConfig(N_in=2, N_rec=5, N_out=3, model="gru", seed=2, dtype="float64")
    )
    assert isinstance(network, GRU)
    network.set_weights({"b_z": np.linspace(-1, 1, 5), "b_h": np.full(5, 0.2)})
    inputs = np.random.default_rng(1).normal(size=(3, 15, 2))
    outputs, states = network.run(inputs)
    expected_outputs, expected_states = gru_reference(network.get_weights(), inputs)
    np.testing.assert_allclose(states, expected_states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(outputs, expected_outputs, rtol=0, atol=1e-12)


def test_lstm_variables_and_initial_values():
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=1, model="lstm", seed=0))
    shapes = {name: tuple(variable.shape) for name, variable in network.variables.items()}
    assert shapes["W_f"] == (6, 4)
    assert shapes["init_hidden"] == (1, 4)
    assert np.array_equal(network.get_weights()["b_o"], np.ones(4, np.float32))


def test_lstm_trainable_flags():
    config = NetworkConfig(
        N_in=1, N_rec=2, N_out=1, model="lstm", W_rec_train=False, init_state_train=False
    )
    names = [variable.name.split(":")[0] for variable in build_network(config).trainable_variables]
    assert names == ["b_f", "b_i", "b_c", "b_o", "W_out", "b_out"]


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_gated_any_batch_and_gradient(model):
    network = build_network(NetworkConfig(N_in=2, N_rec=3, N_out=2, model=model, seed=0))
    for shape in [(1, 1, 2), (9, 13, 2)]:
        outputs, states = network.run(np.ones(shape))
        assert outputs.shape == shape[:2] + (2,)
        assert states.shape == shape[:2] + (3,)
    with tf.GradientTape() as tape:
        outputs, _ = network.forward(tf.ones((2, 5, 2)))
        loss = tf.reduce_mean(outputs**2)
    gradients = tape.gradient(loss, network.trainable_variables)
    assert all(gradient is not None for gradient in gradients)


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_gated_save_load_exact(tmp_path, model):
    network = build_network(NetworkConfig(N_in=2, N_rec=3, N_out=2, model=model, seed=5))
    loaded = load_network(save_network(tmp_path / "g.npz", network))
    assert type(loaded) is type(network)
    inputs = np.random.default_rng(0).normal(size=(2, 7, 2))
    assert np.array_equal(loaded.run(inputs)[0], network.run(inputs)[0])


def test_psychrnn_lstm_file_mapping(tmp_path):
    rng = np.random.default_rng(0)
    entries = {f"W_{gate}": rng.normal(size=(5, 3)) for gate in "fico"}
    entries.update({f"b_{gate}": np.ones(3) for gate in "fico"})
    entries.update(
        W_out=rng.normal(size=(1, 3)),
        b_out=np.zeros(1),
        init_hidden=rng.normal(size=(8, 3)),
        init_cell=rng.normal(size=(8, 3)),
    )
    entries.update(
        W_in=np.zeros((3, 2)),
        W_rec=np.zeros((3, 3)),
        init_state=np.zeros((1, 3)),
        dale_ratio=np.array(None, dtype=object),
    )
    np.savez(tmp_path / "lstm.npz", **entries)
    network = load_network(tmp_path / "lstm.npz")
    assert network.config.model == "lstm"
    assert network.config.lstm_hidden_activation == "sigmoid"
    assert np.array_equal(
        network.get_weights()["init_hidden"], entries["init_hidden"][:1].astype(np.float32)
    )


def test_gated_rejects_rate_constraints():
    with pytest.raises(InvalidParameterError, match="rec_noise applies only to model='rate'"):
        NetworkConfig(N_in=1, N_rec=2, N_out=1, model="gru", rec_noise=0.1)


def test_gated_regularization_matrices():
    network = build_network(
        NetworkConfig(N_in=2, N_rec=3, N_out=1, model="lstm", seed=0, dtype="float64")
    )
    weights = network.get_weights()
    hidden_rows = np.concatenate([weights[f"W_{gate}"][:3] for gate in "fico"], axis=1)
    settings = type("Settings", (), {"L2_rec": 1.0})()
    total = compute_regularization(network, tf.zeros((1, 1, 3), tf.float64), settings).numpy()
    assert total == pytest.approx(np.mean(hidden_rows**2), rel=1e-12)


def plain_lstm_states(network, inputs):
    """Hidden states from a plain tf.scan, differentiated automatically, for comparison."""
    weights = network.variables
    joint = {gate: weights[f"W_{gate}"] for gate in "fico"}
    activation = (
        tf.math.tanh if network.config.lstm_hidden_activation == "tanh" else tf.math.sigmoid
    )
    n_batch = tf.shape(inputs)[0]

    def step(carry, x_t):
        hidden, cell = carry
        both = tf.concat([hidden, x_t], axis=1)
        forget = tf.math.sigmoid(both @ joint["f"] + weights["b_f"])
        write = tf.math.sigmoid(both @ joint["i"] + weights["b_i"])
        candidate = tf.math.tanh(both @ joint["c"] + weights["b_c"])
        read = tf.math.sigmoid(both @ joint["o"] + weights["b_o"])
        cell = forget * cell + write * candidate
        return read * activation(cell), cell

    initial = (
        tf.tile(weights["init_hidden"], [n_batch, 1]),
        tf.tile(weights["init_cell"], [n_batch, 1]),
    )
    hidden, _ = tf.scan(step, tf.transpose(inputs, [1, 0, 2]), initializer=initial)
    states = tf.transpose(hidden, [1, 0, 2])
    return tf.einsum("btr,or->bto", states, weights["W_out"]) + weights["b_out"], states


@pytest.mark.parametrize("option", ["tanh", "sigmoid"])
def test_lstm_gradient_equals_autodiff(option):
    config = NetworkConfig(
        N_in=3,
        N_rec=5,
        N_out=2,
        model="lstm",
        lstm_hidden_activation=option,
        seed=3,
        dtype="float64",
    )
    network = build_network(config)
    inputs = tf.constant(np.random.default_rng(2).normal(size=(4, 11, 3)))
    gradients = []
    for forward in (network.forward, lambda x: plain_lstm_states(network, x)):
        with tf.GradientTape() as tape:
            outputs, states = forward(inputs)
            loss = tf.reduce_sum(outputs**2) + tf.reduce_sum(tf.sin(states))
        gradients.append(tape.gradient(loss, network.trainable_variables))
    for manual, automatic in zip(*gradients):
        np.testing.assert_allclose(manual.numpy(), automatic.numpy(), rtol=1e-10, atol=1e-12)


def test_lstm_input_gradient_equals_autodiff():
    config = NetworkConfig(N_in=3, N_rec=5, N_out=2, model="lstm", seed=4, dtype="float64")
    network = build_network(config)
    inputs = tf.constant(np.random.default_rng(5).normal(size=(4, 11, 3)))
    gradients = []
    for forward in (network.forward, lambda x: plain_lstm_states(network, x)):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs, states = forward(inputs)
            loss = tf.reduce_sum(outputs**2) + tf.reduce_sum(tf.sin(states))
        gradients.append(tape.gradient(loss, inputs))
    np.testing.assert_allclose(gradients[0].numpy(), gradients[1].numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("n_in", "n_steps"), [(3, 11), (12, 7), (2, 1)])
def test_lstm_compiled_gradient_equals_autodiff(n_in, n_steps):
    # Traced for XLA, the backward loop writes the four gate blocks in place; 12 inputs take
    # the matmul path of the input drive, 1 step leaves the loops empty.
    config = NetworkConfig(
        N_in=n_in,
        N_rec=5,
        N_out=2,
        model="lstm",
        lstm_hidden_activation="sigmoid",
        seed=6,
        dtype="float64",
    )
    network = build_network(config)
    inputs = tf.constant(np.random.default_rng(8).normal(size=(4, n_steps, n_in)))
    variables = network.trainable_variables

    def gradients(forward, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs, states = forward(x)
            loss = tf.reduce_sum(outputs**2) + tf.reduce_sum(tf.sin(states))
        return tape.gradient(loss, [*variables, x])

    compiled = tf.function(for_xla(lambda x: gradients(network.forward, x)), jit_compile=True)
    automatic = gradients(lambda x: plain_lstm_states(network, x), inputs)
    for manual, expected in zip(compiled(inputs), automatic):
        np.testing.assert_allclose(manual.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_lstm_one_step_trains_without_xla():
    # Without XLA the batch size is unknown while tracing, and one step leaves the backward
    # loop empty: the stored gate gradients must still stack.
    task = FlipFlop(dt=10, tau=100, T=10, N_batch=4)
    network = build_network(NetworkConfig.for_task(task, N_rec=6, model="lstm", seed=2))
    for jit_compile in (False, True):
        trainer = Trainer(
            network, task, TrainingConfig(seed=0, max_updates=2), jit_compile=jit_compile
        )
        history = trainer.run()
        assert trainer.state == "finished"
        assert len(history.loss) == 2
        assert np.all(np.isfinite(history.loss))


def test_for_xla_marks_only_its_own_call():
    seen = []
    traced = for_xla(lambda: seen.append(compiling_for_xla()))
    traced()
    seen.append(compiling_for_xla())
    assert seen == [True, False]


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_gated_no_steps(model):
    network = build_network(NetworkConfig(N_in=3, N_rec=4, N_out=2, model=model, seed=0))
    outputs, states = network.forward(np.zeros((2, 0, 3), np.float32))
    assert outputs.shape == (2, 0, 2)
    assert states.shape == (2, 0, 4)


def plain_gru_states(network, inputs):
    """Hidden states from a plain tf.scan, differentiated automatically, for comparison."""
    weights = network.variables
    n_batch = tf.shape(inputs)[0]

    def step(hidden, x_t):
        both = tf.concat([hidden, x_t], axis=1)
        update = tf.math.sigmoid(both @ weights["W_z"] + weights["b_z"])
        reset = tf.math.sigmoid(both @ weights["W_r"] + weights["b_r"])
        candidate = tf.math.tanh(
            tf.concat([reset * hidden, x_t], axis=1) @ weights["W_h"] + weights["b_h"]
        )
        return (1.0 - update) * hidden + update * candidate

    initial = tf.tile(weights["init_state"], [n_batch, 1])
    states = tf.transpose(
        tf.scan(step, tf.transpose(inputs, [1, 0, 2]), initializer=initial), [1, 0, 2]
    )
    return tf.einsum("btr,or->bto", states, weights["W_out"]) + weights["b_out"], states


def test_gru_gradient_equals_autodiff():
    network = build_network(
        NetworkConfig(N_in=3, N_rec=5, N_out=2, model="gru", seed=4, dtype="float64")
    )
    network.set_weights(
        {"b_z": np.linspace(-1, 1, 5), "b_r": np.full(5, 0.3), "b_h": np.full(5, -0.2)}
    )
    inputs = tf.constant(np.random.default_rng(3).normal(size=(4, 11, 3)))
    gradients = []
    for forward in (network.forward, lambda x: plain_gru_states(network, x)):
        with tf.GradientTape() as tape:
            outputs, states = forward(inputs)
            loss = tf.reduce_sum(outputs**2) + tf.reduce_sum(tf.sin(states))
        gradients.append(tape.gradient(loss, network.trainable_variables))
    for manual, automatic in zip(*gradients):
        np.testing.assert_allclose(manual.numpy(), automatic.numpy(), rtol=1e-10, atol=1e-12)
